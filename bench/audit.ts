/**
 * Audit appends under concurrency: today's design (every append locks audit_head in the
 * request's transaction) against the lock-free one (a seq number per append, linked by one
 * chainer after commit), in one run on the same database. Each request transaction appends
 * one entry and then does `--work-ms` of other work before committing, as a payout write
 * does; that is the time the baseline holds its lock. Prints medians over `--runs` runs of
 * transactions per second and p50/p95 latency, then how fast the chainer links the backlog.
 *
 *   TEST_DATABASE_URL=postgres://... npx tsx bench/audit.ts [--runs 3] [--ms 2000] [--work-ms 5]
 */
import { createHash, randomBytes } from "node:crypto";
import { createPool, type DatabasePool, sql } from "slonik";
import { z } from "zod";
import { migrate } from "../src/core/db/migrate.js";
import { openDatabase } from "../src/core/db/pool.js";
import { appendAudit } from "../src/core/kernel/audit.js";
import { chainAudit, newChainState } from "../src/core/kernel/audit-chain.js";
import { verifyAuditConsistent } from "../src/core/kernel/audit-verify.js";
import { parseFlags } from "../src/shared/config.js";
import { closedLoop } from "./loop.js";
import { figure, show } from "./stats.js";

const flags = parseFlags(process.argv.slice(2));
const RUNS = Number(flags.runs ?? 3);
const MS = Number(flags.ms ?? 2000);
const WORK_MS = Number(flags["work-ms"] ?? 5);
const CONCURRENCY = [1, 8, 32];
const BASE = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const entry = (i: number) => ({
  actor: "bench",
  action: "payout.create",
  subject: `payout:${i}`,
  details: { amount: "1000000", asset: "USDT" },
});

/**
 * The baseline: a copy of the append as it was before migration 010 (audit_head FOR UPDATE,
 * hash in the transaction), on its own tables, sharing no code with src/core/kernel/audit.ts.
 */
const BASELINE_SCHEMA = [
  sql.unsafe`CREATE TABLE baseline_audit_log (seq bigint PRIMARY KEY, time timestamptz NOT NULL,
    actor text NOT NULL, action text NOT NULL, subject text NOT NULL, details jsonb NOT NULL,
    prev_hash text NOT NULL, hash text NOT NULL UNIQUE)`,
  sql.unsafe`CREATE TABLE baseline_audit_head (singleton boolean PRIMARY KEY DEFAULT true,
    seq bigint NOT NULL, hash text NOT NULL)`,
  sql.unsafe`INSERT INTO baseline_audit_head (seq, hash) VALUES (0, repeat('0', 64))`,
];
const Head = z.object({ seq: z.bigint(), hash: z.string() });

async function baselineAppend(
  tx: Parameters<Parameters<DatabasePool["transaction"]>[0]>[0],
  e: ReturnType<typeof entry>,
): Promise<void> {
  const head = await tx.one(sql.type(Head)`SELECT seq, hash FROM baseline_audit_head FOR UPDATE`);
  const seq = head.seq + 1n;
  const time = Date.now();
  const details = Object.fromEntries(Object.entries(e.details).sort());
  const hash = createHash("sha256")
    .update(
      JSON.stringify([seq.toString(), time, e.actor, e.action, e.subject, details, head.hash]),
    )
    .digest("hex");
  await tx.query(sql.unsafe`
    INSERT INTO baseline_audit_log (seq, time, actor, action, subject, details, prev_hash, hash)
    VALUES (${seq}, 'epoch'::timestamptz + ${time} * interval '1 millisecond', ${e.actor},
            ${e.action}, ${e.subject}, ${sql.jsonb(details)}, ${head.hash}, ${hash})`);
  await tx.query(sql.unsafe`UPDATE baseline_audit_head SET seq = ${seq}, hash = ${hash}`);
}

async function main() {
  const name = `tronpay_bench_audit_${randomBytes(4).toString("hex")}`;
  const admin = await createPool(BASE, { maximumPoolSize: 1 });
  await admin.query(sql.unsafe`CREATE DATABASE ${sql.identifier([name])}`);
  const url = new URL(BASE);
  url.pathname = `/${name}`;
  const pool = await openDatabase(url.toString(), Math.max(...CONCURRENCY) + 4);
  try {
    await migrate(pool);
    for (const q of BASELINE_SCHEMA) await pool.query(q);
    const work = sql.unsafe`SELECT pg_sleep(${WORK_MS / 1000})`;
    const designs = {
      "baseline (audit_head FOR UPDATE)": (i: number) =>
        pool.transaction(async (tx) => {
          await baselineAppend(tx, entry(i));
          await tx.query(work);
        }),
      "lock-free (seq + chainer)": (i: number) =>
        pool.transaction(async (tx) => {
          await appendAudit(tx, entry(i));
          await tx.query(work);
        }),
    };
    console.log(
      `audit appends: ${RUNS} runs of ${MS} ms, ${WORK_MS} ms of other work per transaction`,
    );
    console.log(
      "design                            in flight   tx/s median (min–max)   p50 ms   p95 ms",
    );
    for (const n of CONCURRENCY) {
      for (const [label, call] of Object.entries(designs)) {
        const runs = [];
        for (let r = 0; r < RUNS; r++)
          runs.push(await closedLoop(n, MS, (i) => call(i).then(() => {})));
        const rps = figure(runs.map((x) => x.rps));
        const p50 = figure(runs.map((x) => x.p50)).median;
        const p95 = figure(runs.map((x) => x.p95)).median;
        console.log(
          `${label.padEnd(34)}${String(n).padStart(9)}   ${show(rps, 0).padEnd(22)}${p50.toFixed(1).padStart(7)}${p95.toFixed(1).padStart(9)}`,
        );
      }
    }
    // The chainer links what the lock-free runs appended (nothing was chained during them).
    const backlog = await pool.oneFirst(
      sql.type(z.object({ n: z.bigint() }))`SELECT count(*) AS n FROM audit_log WHERE hash IS NULL`,
    );
    const state = newChainState();
    const t0 = performance.now();
    let linked = 0;
    while (BigInt(linked) < backlog) linked += (await chainAudit(pool, state)) ?? 0;
    const seconds = (performance.now() - t0) / 1000;
    const verified = await verifyAuditConsistent(pool);
    console.log(
      `chainer: linked ${linked} entries in ${seconds.toFixed(2)} s (${Math.round(linked / seconds)}/s); verify ok=${verified.ok} over ${verified.checked}`,
    );
  } finally {
    await pool.end();
    await admin.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([name])} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
