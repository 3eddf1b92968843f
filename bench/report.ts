import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import type { LoopRun } from "./loop.js";
import type { PipelineRun } from "./pipeline.js";
import { type Figure, figure, show } from "./stats.js";

/** What bench/main.ts measured, as written to the JSON file. */
export interface BenchResult {
  date: string;
  machine: { cpus: number; load: number[] };
  runs: number;
  secondsPerRun: number;
  api: Record<string, Record<number, LoopRun[]>>;
  pipeline: PipelineRun;
  rss: Record<string, Record<string, number>>;
  signer: string[];
  /** Rows and size of the write path's tables when the API runs started and ended. */
  tables: { before: TableSize[]; after: TableSize[] };
  skipped: string[];
}

/** One table's rows (counted) and total size. */
export interface TableSize {
  table: string;
  rows: number;
  mib: number;
}

const TABLES = [
  "operations",
  "payouts",
  "attempts",
  "outbox",
  "audit_log",
  "idempotency_keys",
  "daily_usage",
];

/** Rows and total size (with indexes) of the tables a CreatePayout writes, and attempts. */
export async function tableSizes(db: CommonQueryMethods): Promise<TableSize[]> {
  const out: TableSize[] = [];
  for (const table of TABLES) {
    const id = sql.identifier([table]);
    const r = await db.one(sql.type(z.object({ rows: z.number(), bytes: z.number() }))`
      SELECT (SELECT count(*) FROM ${id})::int AS rows,
             pg_total_relation_size(${table}::regclass)::float8 AS bytes`);
    out.push({ table, rows: r.rows, mib: r.bytes / 2 ** 20 });
  }
  return out;
}

/** "operations 1,234 rows / 1.2 MiB, …" */
export function showSizes(sizes: readonly TableSize[]): string {
  return sizes
    .map((t) => `${t.table} ${t.rows.toLocaleString("en-US")} rows / ${t.mib.toFixed(1)} MiB`)
    .join(", ");
}

const of = (runs: LoopRun[] | undefined, k: keyof LoopRun): Figure =>
  figure((runs ?? []).map((r) => r[k]));

/** Per run i: f(a_i, b_i), then median and spread over runs (ratios inside one run). */
function paired(
  a: LoopRun[] | undefined,
  b: LoopRun[] | undefined,
  f: (x: LoopRun, y: LoopRun) => number,
): Figure {
  const xs = a ?? [];
  return figure(xs.flatMap((x, i) => (b?.[i] ? [f(x, b[i] as LoopRun)] : [])));
}

/** The markdown tables of one benchmark result. */
export function renderMarkdown(r: BenchResult, inFlight: number[]): string {
  const out: string[] = [];
  out.push(`# tronpay bench ${r.date}`, "");
  out.push(
    `${r.machine.cpus} CPUs, load average at the end ${r.machine.load.map((l) => l.toFixed(1)).join(" / ")}; ${r.runs} runs of ${r.secondsPerRun} s each; median (min–max).`,
    "",
  );
  out.push("## CreatePayout (durable: idempotency + payout + audit + outbox, one transaction)", "");
  out.push(
    "anchor: pgbench running the minimal durable insert (operation + payout + outbox rows, one statement) on the same database; bare: a node:http handler sending that statement (no code shared with core). Ratios are per run against the anchor and the bare handler at the same in-flight count.",
    "",
  );
  out.push(`Tables when the runs started: ${showSizes(r.tables.before)}.`, "");
  out.push(`Tables when they ended: ${showSizes(r.tables.after)}.`, "");
  out.push(
    "| transport | in flight | req/s | p50 ms | p95 ms | p99 ms | errors | × anchor req/s | × bare req/s |",
  );
  out.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  const ratio = (runs: LoopRun[] | undefined, base: LoopRun[] | undefined) =>
    base
      ? show(
          paired(runs, base, (x, y) => x.rps / y.rps),
          2,
        )
      : "–";
  for (const name of Object.keys(r.api)) {
    for (const n of inFlight) {
      const runs = r.api[name]?.[n];
      out.push(
        `| ${name} | ${n} | ${show(of(runs, "rps"), 0)} | ${show(of(runs, "p50"))} | ${show(of(runs, "p95"))} | ${show(of(runs, "p99"))} | ${(runs ?? []).reduce((s, x) => s + x.errors, 0)} | ${ratio(runs, r.api.anchor?.[n])} | ${ratio(runs, r.api.bare?.[n])} |`,
      );
    }
  }
  if (r.api.rest) {
    out.push("", "## Edge overhead (REST via edge − Connect direct, same run)", "");
    out.push("| in flight | added p50 ms | added p99 ms |", "| ---: | ---: | ---: |");
    for (const n of inFlight) {
      const rest = r.api.rest[n];
      const conn = r.api.connect?.[n];
      out.push(
        `| ${n} | ${show(paired(rest, conn, (x, y) => x.p50 - y.p50))} | ${show(paired(rest, conn, (x, y) => x.p99 - y.p99))} |`,
      );
    }
  }
  out.push("", "## Pipeline (engine running, devnet 100 ms blocks, solid lag 2)", "");
  out.push(
    `CreatePayoutBatch of ${r.pipeline.items} → all CONFIRMED: ${r.pipeline.seconds.toFixed(1)} s, ${r.pipeline.payoutsPerSecond.toFixed(1)} payouts/s (one run).`,
  );
  out.push("", "## Signer (bench/signer.ts)", "", ...r.signer);
  out.push("", "## RSS (MiB, from /proc; peak during the phase)", "");
  const names = [...new Set(Object.values(r.rss).flatMap((m) => Object.keys(m)))];
  out.push(
    `| process | ${Object.keys(r.rss).join(" | ")} |`,
    `| --- |${Object.keys(r.rss)
      .map(() => " ---: |")
      .join("")}`,
  );
  for (const p of names)
    out.push(
      `| ${p} | ${Object.values(r.rss)
        .map((m) => (m[p] ?? 0).toFixed(0))
        .join(" | ")} |`,
    );
  for (const s of r.skipped) out.push("", `Skipped: ${s}`);
  return `${out.join("\n")}\n`;
}
