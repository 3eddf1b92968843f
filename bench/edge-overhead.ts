/**
 * The edge's added cost: GetPayout (a cheap read) and CreatePayout, REST through the edge vs
 * Connect straight to core, at 1 and 64 in flight; medians of the runs' p50/p95. Writes
 * bench/results/edge-overhead-<timestamp>.md with the load (`uptime`) at start and end.
 *
 *   npx tsx bench/edge-overhead.ts [-- --runs 3 --seconds 2 --label before]
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { freePort } from "../chaos/procs.js";
import { fundedWallet, startChaosStack } from "../chaos/stack.js";
import { PayoutService } from "../src/gen/tronpay/v1/payout_pb.js";
import { TRX } from "../test/devnet/helpers.js";
import { type Caller, connectCaller, restCaller } from "./clients.js";
import { prepareCode } from "./code.js";
import { closedLoop, type LoopRun } from "./loop.js";
import { figure, show } from "./stats.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    seconds: { type: "string", default: "2" },
    label: { type: "string", default: "" },
    code: { type: "string", default: "built" },
    // A directory: a second edge (same env, own port) runs under --cpu-prof for one GET run.
    profile: { type: "string", default: "" },
  },
});
const RUNS = Number(values.runs);
const MS = Number(values.seconds) * 1000;
const IN_FLIGHT = [1, 64];
const log = (m: string) => console.error(`[edge-overhead] ${m}`);
/** CPU time (user + system, ms) a process has used so far, from /proc (Linux). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks at 100 Hz
}
const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim();

const code = prepareCode(values.code);
log(`code: ${code.note}`);
const loadStart = uptime();
const stack = await startChaosStack({
  cores: 1,
  withEdge: true,
  built: code.built,
  devnet: { blockTimeMs: 100, solidLag: 2 },
  coreEnv: { TRONPAY_CORE_POLL_MS: "86400000", TRONPAY_V0_MAX_PER_DAY: "100000000" },
});
try {
  if (!stack.edge) throw new Error(`no edge: ${stack.edgeSkip}`);
  log(`edge pid ${stack.edge.pid()}`); // its --cpu-prof file (NODE_OPTIONS) is named by pid
  const wallet = await fundedWallet(stack, "eo", { trxSun: 1_000n * TRX, usdt: 10n ** 15n });
  const client = stack.client(PayoutService, stack.coreUrls[0] ?? "");
  await connectCaller(stack, wallet.id, "seed")(0);
  const { payouts } = await client.listPayouts({ walletId: wallet.id });
  const id = payouts[0]?.id ?? "";
  const callers: [string, Caller][] = [
    ["get connect", async () => void (await client.getPayout({ id }, { timeoutMs: 30_000 }))],
    [
      "get rest",
      async () => {
        const res = await fetch(`${stack.edgeUrl}/v1/payouts/${id}`, {
          headers: { authorization: `Bearer ${stack.adminKey}` },
        });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`edge answered ${res.status}`);
      },
    ],
    ["create connect", connectCaller(stack, wallet.id, "c")],
    ["create rest", restCaller(stack, wallet.id, "r")],
  ];
  for (const [, call] of callers) await closedLoop(4, 1_000, (i) => call(1e9 + i)); // warm-up
  const runs: Record<string, LoopRun[]> = {};
  /** Edge CPU ms per call, per run (for Connect direct it is the edge's idle cost). */
  const cpuPerCall: Record<string, number[]> = {};
  let seq = 0;
  for (let run = 0; run < RUNS; run++) {
    for (const n of IN_FLIGHT) {
      for (const [name, call] of callers) {
        const offset = ++seq * 10_000_000;
        const key = `${name} @${n}`;
        const cpu0 = cpuMs(stack.edge.pid());
        const r = await closedLoop(n, MS, (i) => call(offset + i));
        const edgeCpu = (cpuMs(stack.edge.pid()) - cpu0) / (r.rps * (MS / 1000));
        cpuPerCall[key] = [...(cpuPerCall[key] ?? []), edgeCpu];
        runs[key] = [...(runs[key] ?? []), r];
        log(`${name} @${n}: p50 ${r.p50.toFixed(2)} ms, ${r.errors} errors`);
      }
    }
  }
  if (values.profile !== "") await profileEdge(stack.edge.spec.env, id, stack.adminKey);
  const loadEnd = uptime();
  const rows = Object.entries(runs).map(([key, rs]) => {
    const p50 = figure(rs.map((r) => r.p50));
    const p95 = figure(rs.map((r) => r.p95));
    const rps = figure(rs.map((r) => r.rps));
    const errors = rs.reduce((s, r) => s + r.errors, 0);
    return { key, p50, p95, rps, errors, cpu: figure(cpuPerCall[key] ?? []) };
  });
  const md = [
    `# Edge overhead ${values.label}`,
    "",
    `${RUNS} runs × ${values.seconds} s; medians (min–max). Load at start: \`${loadStart}\`; at end: \`${loadEnd}\`. Code: ${code.note}.`,
    "",
    "| call @ in flight | p50 ms | p95 ms | rps | errors | edge CPU ms/call |",
    "|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.key} | ${show(r.p50, 2)} | ${show(r.p95, 2)} | ${show(r.rps, 0)} | ${r.errors} | ${show(r.cpu, 2)} |`,
    ),
    "",
    "Edge overhead (REST p50 − Connect p50, medians):",
    "",
    ...["get", "create"].flatMap((op) =>
      IN_FLIGHT.map((n) => {
        const rest = rows.find((r) => r.key === `${op} rest @${n}`)?.p50.median ?? 0;
        const direct = rows.find((r) => r.key === `${op} connect @${n}`)?.p50.median ?? 0;
        const pct = direct > 0 ? ((rest / direct - 1) * 100).toFixed(0) : "-";
        return `- ${op} @${n}: +${(rest - direct).toFixed(2)} ms (${pct}%)`;
      }),
    ),
    "",
  ].join("\n");
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/edge-overhead-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}.md`;
  writeFileSync(file, md);
  console.log(md);
  log(`wrote ${file}`);
} finally {
  await stack.stop();
}

/** Runs GetPayout over REST at 1 in flight against an edge started with --cpu-prof. */
async function profileEdge(env: Record<string, string>, id: string, key: string): Promise<void> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ["--cpu-prof", "--cpu-prof-dir", values.profile, "--import", "tsx", "src/edge/main.ts"],
    {
      env: { PATH: process.env.PATH ?? "", ...env, TRONPAY_EDGE_PORT: String(port) },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise<void>((resolve) => {
    child.stdout?.on("data", (b: Buffer) => {
      if (b.toString().includes("edge ready")) resolve();
    });
  });
  const r = await closedLoop(1, MS * 2, async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/payouts/${id}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    await res.arrayBuffer();
  });
  log(`profiled edge (pid ${child.pid}): ${Math.round((r.rps * MS * 2) / 1000)} GETs`);
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}
