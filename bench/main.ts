/**
 * npm run bench: CreatePayout over Connect, gRPC and REST (edge) at 1/16/64 in flight against
 * two baselines that share no code with core: pgbench running the minimal durable insert of
 * payout and outbox rows (the physical anchor; skipped with a reason when pgbench is missing)
 * and a bare HTTP handler sending that same statement; then the edge's added latency, the
 * signer, the pipeline (batch → CONFIRMED) and RSS per process. Medians of repeated runs with
 * min–max; ratios are taken within one run. Writes bench/results/<date>.json and .md.
 *
 *   npm run bench [-- --runs 3 --seconds 3 --batch 1000]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Supervised } from "../chaos/procs.js";
import { fundedWallet, startChaosStack, withTimeout } from "../chaos/stack.js";
import { TRX } from "../test/devnet/helpers.js";
import { findPgbench, pgbenchRun } from "./anchor.js";
import { startBare } from "./bare.js";
import {
  bareCaller,
  type Caller,
  connectCaller,
  grpcCaller,
  RECIPIENT,
  restCaller,
} from "./clients.js";
import { closedLoop, type LoopRun } from "./loop.js";
import { pipelineRun } from "./pipeline.js";
import { renderMarkdown, tableSizes } from "./report.js";
import { PeakRss, rssMiB } from "./rss.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    seconds: { type: "string", default: "3" },
    batch: { type: "string", default: "1000" },
  },
});
const RUNS = Number(values.runs);
const MS = Number(values.seconds) * 1000;
const IN_FLIGHT = [1, 16, 64];
const log = (m: string) => console.error(`[bench] ${m}`);

const stack = await startChaosStack({
  cores: 1,
  withEdge: true,
  devnet: { blockTimeMs: 100, solidLag: 2 },
  coreEnv: {
    TRONPAY_CORE_POLL_MS: "50",
    TRONPAY_CORE_WORKERS: "32",
    TRONPAY_V0_MAX_PER_DAY: "100000000",
  },
});
const core = stack.cores[0] as Supervised;
const procs = (): [string, number | undefined][] => [
  ["core", core.pid()],
  ["signer", stack.signer.pid()],
  ["edge", stack.edge?.pid()],
];
try {
  const idle = Object.fromEntries(procs().map(([n, pid]) => [n, rssMiB(pid)]));
  log(`stack up; edge: ${stack.edge ? "yes" : stack.edgeSkip}`);

  const pipeRss = new PeakRss(procs);
  const pipeline = await pipelineRun(stack, Number(values.batch), "p1", () => pipeRss.sample());
  log(`pipeline: ${pipeline.items} in ${pipeline.seconds.toFixed(1)} s`);

  // PausePayouts would make CreatePayout itself refuse (payout.paused), so the engine is idled
  // instead: core restarts with a one-day poll interval and finds nothing to do at start.
  core.spec.env.TRONPAY_CORE_POLL_MS = "86400000";
  const before = core.pid();
  core.kill9();
  while (core.pid() === before) await new Promise((r) => setTimeout(r, 100));
  await withTimeout(core.whenReady(), 120_000, "core did not restart");
  const wallet = await fundedWallet(stack, "api", { trxSun: 1_000n * TRX, usdt: 10n ** 15n });
  const rows = { walletId: wallet.id, ownerAddress: wallet.address, recipientAddress: RECIPIENT };
  const bare = await startBare(stack.db.url, rows);
  const pgbench = findPgbench();
  if ("skip" in pgbench) log(`anchor skipped: ${pgbench.skip}`);
  const grpc = grpcCaller(stack, wallet.id, "g");
  const callers: [string, Caller][] = [
    ["connect", connectCaller(stack, wallet.id, "c")],
    ["grpc", grpc.call],
    ...(stack.edge ? ([["rest", restCaller(stack, wallet.id, "r")]] as [string, Caller][]) : []),
    ["bare", bareCaller(bare.url, "/insert")],
  ];
  const loadRss = new PeakRss(() => [...procs(), ["bare", bare.proc.pid()]]);
  const tablesBefore = await tableSizes(stack.db.pool);
  for (const [, call] of callers) await closedLoop(4, 1_000, (i) => call(1e9 + i)); // warm-up
  const api: Record<string, Record<number, LoopRun[]>> = {};
  let seq = 0;
  for (let run = 0; run < RUNS; run++) {
    for (const n of IN_FLIGHT) {
      for (const [name, call] of callers) {
        const timer = setInterval(() => loadRss.sample(), 500);
        const offset = ++seq * 10_000_000;
        const r = await closedLoop(n, MS, (i) => call(offset + i));
        clearInterval(timer);
        const byN = api[name] ?? {};
        byN[n] = [...(byN[n] ?? []), r];
        api[name] = byN;
        log(
          `run ${run + 1} ${name} ×${n}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99.toFixed(1)} ms, ${r.errors} errors`,
        );
      }
      if ("path" in pgbench) {
        const r = await pgbenchRun(pgbench.path, stack.db.url, rows, n, MS);
        const byN = api.anchor ?? {};
        byN[n] = [...(byN[n] ?? []), r];
        api.anchor = byN;
        log(`run ${run + 1} anchor (pgbench) ×${n}: ${r.rps.toFixed(0)} tx/s`);
      }
    }
  }
  grpc.close();
  await bare.proc.stop();
  const tablesAfter = await tableSizes(stack.db.pool);
  log("signer bench (bench/signer.ts)");
  const signer = execFileSync(
    process.execPath,
    ["--import", "tsx", "bench/signer.ts", "--n", "1000", "--runs", String(RUNS)],
    { encoding: "utf8" },
  );
  const result = {
    date: new Date().toISOString(),
    machine: {
      cpus: (await import("node:os")).cpus().length,
      load: (await import("node:os")).loadavg(),
    },
    runs: RUNS,
    secondsPerRun: MS / 1000,
    api,
    pipeline,
    rss: {
      idle,
      pipeline: Object.fromEntries(pipeRss.peak),
      api: Object.fromEntries(loadRss.peak),
    },
    signer: signer.split("\n").filter((l) => l.startsWith("|") || l.startsWith("1,000")),
    tables: { before: tablesBefore, after: tablesAfter },
    skipped: [
      ...(stack.edge ? [] : [`REST via edge: ${stack.edgeSkip}`]),
      ...("skip" in pgbench ? [`anchor: ${pgbench.skip}`] : []),
    ],
  };
  const day = result.date.slice(0, 19).replace(/:/g, "-");
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(
    new URL(`./results/${day}.json`, import.meta.url),
    `${JSON.stringify(result, null, 2)}\n`,
  );
  const md = renderMarkdown(result, IN_FLIGHT);
  writeFileSync(new URL(`./results/${day}.md`, import.meta.url), md);
  console.log(md);
} finally {
  await stack.stop();
}
process.exit(0);
