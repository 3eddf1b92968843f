/**
 * npm run bench:volume: does CreatePayout's cost grow with the data? req/s and p95 with 0,
 * 100,000 and 1,000,000 payouts already stored (50,000 of them today, seeded with one INSERT …
 * SELECT generate_series), at 1/16/64 in flight, in one invocation, next to:
 *
 *   anchor      pgbench running the minimal durable insert (operation + payout + outbox)
 *   bare        a node:http handler sending that statement (no code shared with core)
 *   bare+new    the bare insert after migration 012's limit check (one counter row)
 *   bare+old    the bare insert after the limit check core ran before migration 012 (an
 *               advisory lock per route and asset, then a sum over today's payouts)
 *
 * Writes bench/results/volume-<date>.json, .md (with the EXPLAIN plans of every statement of
 * one CreatePayout at the largest size) and .svg (req/s against payouts stored).
 *
 *   npm run bench:volume [-- --runs 3 --seconds 3 --sizes 0,100000,1000000 --today 50000]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { createPool, sql } from "slonik";
import { fundedWallet, startChaosStack } from "../chaos/stack.js";
import { TRX } from "../test/devnet/helpers.js";
import { seedPayouts } from "../test/helpers/seed-payouts.js";
import { findPgbench, pgbenchRun } from "./anchor.js";
import { startBare } from "./bare.js";
import { lineChartSvg } from "./chart.js";
import { bareCaller, type Caller, connectCaller, RECIPIENT } from "./clients.js";
import { prepareCode } from "./code.js";
import { explainCreatePayout } from "./explain.js";
import { closedLoop, type LoopRun } from "./loop.js";
import { type TableSize, tableSizes } from "./report.js";
import { renderVolume, type VolumeLevel, type VolumeResult } from "./volume-report.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    seconds: { type: "string", default: "3" },
    sizes: { type: "string", default: "0,100000,1000000" },
    today: { type: "string", default: "50000" },
    code: { type: "string", default: "built" },
  },
});
const RUNS = Number(values.runs);
const MS = Number(values.seconds) * 1000;
const IN_FLIGHT = [1, 16, 64];
// Of each size, `today` were created today (never more than the size).
const LEVELS = values.sizes.split(",").map((v) => {
  const stored = Number(v);
  return { stored, today: Math.min(stored, Number(values.today)) };
});
const log = (m: string) => console.error(`[bench:volume] ${m}`);
const code = prepareCode(values.code);
log(`code: ${code.note}`);

// The engine idles (one-day poll) from the start: only the write path is measured.
const stack = await startChaosStack({
  cores: 1,
  withEdge: false,
  built: code.built,
  devnet: { blockTimeMs: 100, solidLag: 2 },
  coreEnv: { TRONPAY_CORE_POLL_MS: "86400000", TRONPAY_V0_MAX_PER_DAY: "100000000" },
});
try {
  const wallet = await fundedWallet(stack, "volume", { trxSun: 1_000n * TRX, usdt: 10n ** 15n });
  const rows = { walletId: wallet.id, ownerAddress: wallet.address, recipientAddress: RECIPIENT };
  const bare = await startBare(stack.db.url, rows);
  const pgbench = findPgbench();
  if ("skip" in pgbench) log(`anchor skipped: ${pgbench.skip}`);
  const callers: [string, Caller][] = [
    ["core", connectCaller(stack, wallet.id, "v")],
    ["bare", bareCaller(bare.url, "/insert")],
    ["bare+new", bareCaller(bare.url, "/new-limit")],
    ["bare+old", bareCaller(bare.url, "/old-limit")],
  ];
  for (const [, call] of callers) await closedLoop(4, 1_000, (i) => call(2e9 + i)); // warm-up
  // Seeding and VACUUM of a million rows may run longer than core's 30 s statement timeout.
  const seedPool = await createPool(stack.db.url, {
    maximumPoolSize: 1,
    statementTimeout: "DISABLE_TIMEOUT",
  });
  const levels: VolumeLevel[] = [];
  const seeded = { stored: 0, today: 0 };
  let seq = 0;
  for (const [li, level] of LEVELS.entries()) {
    const t0 = performance.now();
    await seedPayouts(seedPool, {
      walletId: wallet.id,
      ownerAddress: wallet.address,
      recipientAddress: RECIPIENT,
      total: level.stored - seeded.stored,
      today: level.today - seeded.today,
      tag: `vol${li}`,
    });
    await seedPool.query(sql.unsafe`VACUUM ANALYZE operations`);
    await seedPool.query(sql.unsafe`VACUUM ANALYZE payouts`);
    const seedSeconds = (performance.now() - t0) / 1000;
    Object.assign(seeded, level);
    log(`seeded ${level.stored} (${level.today} today) in ${seedSeconds.toFixed(1)} s`);
    const before: TableSize[] = await tableSizes(stack.db.pool);
    const api: Record<string, Record<number, LoopRun[]>> = {};
    const record = (name: string, n: number, r: LoopRun) => {
      const byN = api[name] ?? {};
      byN[n] = [...(byN[n] ?? []), r];
      api[name] = byN;
      log(
        `${level.stored} stored, run ${api[name]?.[n]?.length} ${name} ×${n}: ${r.rps.toFixed(0)} req/s, p95 ${r.p95.toFixed(1)} ms, ${r.errors} errors`,
      );
    };
    for (let run = 0; run < RUNS; run++) {
      for (const n of IN_FLIGHT) {
        for (const [name, call] of callers) {
          const offset = ++seq * 10_000_000;
          record(name, n, await closedLoop(n, MS, (i) => call(offset + i)));
        }
        if ("path" in pgbench)
          record("anchor", n, await pgbenchRun(pgbench.path, stack.db.url, rows, n, MS));
      }
    }
    levels.push({
      seeded: level,
      seedSeconds,
      tables: { before, after: await tableSizes(stack.db.pool) },
      api,
    });
  }
  await bare.proc.stop();
  await seedPool.end();
  const plans = await explainCreatePayout(stack.db.url, wallet.id, RECIPIENT);
  const result: VolumeResult = {
    date: new Date().toISOString(),
    code: code.note,
    machine: { cpus: (await import("node:os")).cpus().length, load: loadavg() },
    runs: RUNS,
    secondsPerRun: MS / 1000,
    inFlight: IN_FLIGHT,
    levels,
    plans,
    skipped: "skip" in pgbench ? [`anchor: ${pgbench.skip}`] : [],
  };
  const day = result.date.slice(0, 19).replace(/:/g, "-");
  const dir = new URL("./results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL(`volume-${day}.json`, dir), `${JSON.stringify(result, null, 2)}\n`);
  const { markdown, panels, categories } = renderVolume(result, `volume-${day}.svg`);
  writeFileSync(new URL(`volume-${day}.md`, dir), markdown);
  writeFileSync(
    new URL(`volume-${day}.svg`, dir),
    lineChartSvg(
      `CreatePayout req/s against payouts stored (median of ${RUNS} runs of ${MS / 1000} s)`,
      "req/s",
      categories,
      panels,
    ),
  );
  console.log(markdown);
} finally {
  await stack.stop();
}
process.exit(0);
