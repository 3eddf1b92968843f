/**
 * The edge's added cost: GetPayout (a cheap read) and CreatePayout, REST through the edge vs
 * Connect straight to core, at 1 and 64 in flight; medians of the runs' p50/p95. Writes
 * bench/results/edge-overhead-<timestamp>.md with the load (`uptime`) at start and end.
 *
 *   npx tsx bench/edge-overhead.ts [-- --runs 3 --seconds 2 --label before]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { fundedWallet, startChaosStack } from "../chaos/stack.js";
import { PayoutService } from "../src/gen/tronpay/v1/payout_pb.js";
import { TRX } from "../test/devnet/helpers.js";
import { type Caller, connectCaller, restCaller } from "./clients.js";
import { closedLoop, type LoopRun } from "./loop.js";
import { figure, show } from "./stats.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    seconds: { type: "string", default: "2" },
    label: { type: "string", default: "" },
  },
});
const RUNS = Number(values.runs);
const MS = Number(values.seconds) * 1000;
const IN_FLIGHT = [1, 64];
const log = (m: string) => console.error(`[edge-overhead] ${m}`);
const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim();

const loadStart = uptime();
const stack = await startChaosStack({
  cores: 1,
  withEdge: true,
  devnet: { blockTimeMs: 100, solidLag: 2 },
  coreEnv: { TRONPAY_CORE_POLL_MS: "86400000", TRONPAY_V0_MAX_PER_DAY: "100000000" },
});
try {
  if (!stack.edge) throw new Error(`no edge: ${stack.edgeSkip}`);
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
  let seq = 0;
  for (let run = 0; run < RUNS; run++) {
    for (const n of IN_FLIGHT) {
      for (const [name, call] of callers) {
        const offset = ++seq * 10_000_000;
        const r = await closedLoop(n, MS, (i) => call(offset + i));
        (runs[`${name} @${n}`] ??= []).push(r);
        log(`${name} @${n}: p50 ${r.p50.toFixed(2)} ms, ${r.errors} errors`);
      }
    }
  }
  const loadEnd = uptime();
  const rows = Object.entries(runs).map(([key, rs]) => {
    const p50 = figure(rs.map((r) => r.p50));
    const p95 = figure(rs.map((r) => r.p95));
    const rps = figure(rs.map((r) => r.rps));
    const errors = rs.reduce((s, r) => s + r.errors, 0);
    return { key, p50, p95, rps, errors };
  });
  const md = [
    `# Edge overhead ${values.label}`,
    "",
    `${RUNS} runs × ${values.seconds} s; medians (min–max). Load at start: \`${loadStart}\`; at end: \`${loadEnd}\`.`,
    "",
    "| call @ in flight | p50 ms | p95 ms | rps | errors |",
    "|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.key} | ${show(r.p50, 2)} | ${show(r.p95, 2)} | ${show(r.rps, 0)} | ${r.errors} |`,
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
