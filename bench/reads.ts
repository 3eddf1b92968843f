/**
 * npm run bench:reads: the read RPCs with 1,000,000 payouts stored (goal 7 of issue 17).
 *
 * Seeds payouts of every kind (bench seed module: states, routes, assets, wallets, payees,
 * recipients, batches, client references, attempts) spread over ~2 months, then measures
 * through Connect to a real core, one call in flight: GetPayout, ListPayouts with each filter
 * the proto offers (the first page, and a deep page by cursor), GetPayoutStats for a month and
 * ExportPayouts for a month (rows/s). Each query's statements are also run once in process and
 * EXPLAIN (ANALYZE, BUFFERS)ed into the result file, which says which of them scan a table.
 *
 * Writes bench/results/reads-<date>.json and .md.
 *
 *   npm run bench:reads [-- --payouts 1000000 --days 60 --calls 40 --export-runs 2
 *                         --export-seconds 60 --compare FILE.json]
 *   npm run bench:reads -- --render FILE.json [--compare FILE.json]   (the .md again)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createPool, sql } from "slonik";
import { z } from "zod";
import { startChaosStack } from "../chaos/stack.js";
import { exportPayouts } from "../src/core/payouts/export.js";
import { encodeCursor, listPayouts } from "../src/core/payouts/queries.js";
import { attemptsOf, findPayout } from "../src/core/payouts/repo.js";
import { payoutStats } from "../src/core/payouts/stats.js";
import {
  ExportFormat,
  ListPayoutsRequestSchema,
  PayoutRoute,
  PayoutService,
  PayoutState,
  StatsGranularity,
} from "../src/gen/tronpay/v1/payout_pb.js";
import { seedPayouts, seedVariety } from "../test/helpers/seed-payouts.js";
import { explainStatements, type Plan } from "./explain.js";
import { type TableSize, tableSizes } from "./report.js";
import { quantile } from "./stats.js";

const { values } = parseArgs({
  options: {
    payouts: { type: "string", default: "1000000" },
    days: { type: "string", default: "60" },
    calls: { type: "string", default: "40" },
    "max-seconds": { type: "string", default: "20" },
    "export-runs": { type: "string", default: "2" },
    "export-seconds": { type: "string", default: "60" },
    compare: { type: "string" },
    label: { type: "string", default: "" },
    render: { type: "string" },
  },
});
const PAYOUTS = Number(values.payouts);
const DAYS = Number(values.days);
const CALLS = Number(values.calls);
const MAX_MS = Number(values["max-seconds"]) * 1000;
const EXPORT_RUNS = Number(values["export-runs"]);
const EXPORT_MS = Number(values["export-seconds"]) * 1000;
const TAG = "reads";
const DAY = 86_400_000;
const log = (m: string) => console.error(`[bench:reads] ${m}`);

// --render FILE.json [--compare FILE.json]: write FILE.md again from a result, nothing else.
if (values.render) {
  const read = (f: string) => JSON.parse(readFileSync(f, "utf8")) as ReadsResult;
  const before = values.compare ? read(values.compare) : undefined;
  writeFileSync(values.render.replace(/\.json$/, ".md"), renderReads(read(values.render), before));
  process.exit(0);
}

/** One read measured: latencies of `n` calls one at a time, and its plans. */
export interface ReadOp {
  name: string;
  calls: number;
  errors: number;
  p50: number;
  p95: number;
  max: number;
  /** Rows the first call answered (payouts, buckets or exported rows). */
  rows: number;
  plans: Plan[];
  /** Tables any plan of the op scans sequentially. */
  seqScans: string[];
}

export interface ReadsResult {
  date: string;
  label: string;
  machine: { cpus: number; loadStart: number[]; loadEnd: number[] };
  payouts: number;
  days: number;
  seedSeconds: number;
  tables: TableSize[];
  ops: ReadOp[];
  /** Whole exports, or what arrived in the first `export-seconds` (complete: false). */
  exports: {
    rows: number;
    seconds: number;
    rowsPerSecond: number;
    mib: number;
    complete: boolean;
  }[];
}

const stack = await startChaosStack({
  cores: 1,
  withEdge: false,
  devnet: { blockTimeMs: 1000, solidLag: 2 },
  // The engine idles: seeded QUEUED payouts stay as seeded, only reads run.
  coreEnv: { TRONPAY_CORE_POLL_MS: "86400000" },
});
try {
  const loadStart = loadavg();
  const seedPool = await createPool(stack.db.url, {
    maximumPoolSize: 1,
    statementTimeout: "DISABLE_TIMEOUT",
  });
  const t0 = performance.now();
  const variety = await seedVariety(seedPool, {
    wallets: 20,
    payees: 200,
    recipients: 5000,
    batches: 100,
    tag: TAG,
  });
  await seedPayouts(seedPool, {
    walletId: "",
    ownerAddress: "",
    recipientAddress: "",
    total: PAYOUTS,
    today: Math.round(PAYOUTS / DAYS / 2),
    days: DAYS,
    tag: TAG,
    variety,
  });
  for (const t of ["operations", "payouts", "attempts"])
    await seedPool.query(sql.unsafe`VACUUM ANALYZE ${sql.identifier([t])}`);
  const seedSeconds = (performance.now() - t0) / 1000;
  log(`seeded ${PAYOUTS} payouts over ${DAYS} days in ${seedSeconds.toFixed(1)} s`);
  const tables = await tableSizes(seedPool);

  const client = stack.client(PayoutService, stack.coreUrls[0] ?? "");
  const now = Date.now();
  const monthFrom = now - 45 * DAY;
  const monthTo = now - 15 * DAY;
  const deep = await seedPool.one(sql.type(z.object({ id: z.string(), us: z.bigint() }))`
    SELECT id, (extract(epoch FROM created_at) * 1000000)::bigint AS us FROM payouts
    ORDER BY created_at DESC, id DESC OFFSET ${Math.floor(PAYOUTS / 2)} LIMIT 1`);
  const deepToken = encodeCursor(deep.us, deep.id);
  const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length] as T;
  const id = (i: number) => `po_${TAG}_${1 + ((i * 104729) % PAYOUTS)}`;

  type ListInit = MessageInitShape<typeof ListPayoutsRequestSchema>;
  const lists: [string, (i: number) => ListInit][] = [
    ["no filter, first page", () => ({})],
    ["no filter, deep page (cursor at row N/2)", () => ({ page: { pageToken: deepToken } })],
    ["states [FAILED]", () => ({ states: [PayoutState.FAILED] })],
    ["states [QUEUED, HELD]", () => ({ states: [PayoutState.QUEUED, PayoutState.HELD] })],
    [
      "states [CONFIRMED], deep page",
      () => ({
        states: [PayoutState.CONFIRMED],
        page: { pageToken: deepToken },
      }),
    ],
    ["routes [DIRECT]", () => ({ routes: [PayoutRoute.DIRECT] })],
    ["routes [KYC, DIRECT]", () => ({ routes: [PayoutRoute.KYC, PayoutRoute.DIRECT] })],
    ["wallet_id", (i) => ({ walletId: pick(variety.wallets, i).id })],
    ["payee_tag", (i) => ({ payeeTag: pick(variety.payees, i).tag })],
    ["recipient_address", (i) => ({ recipientAddress: pick(variety.recipients, i) })],
    ["batch_id", (i) => ({ batchId: pick(variety.batches, i) })],
    [
      "client_reference",
      (i) => ({ clientReference: `inv-${TAG}-${2 * (1 + ((i * 7717) % (PAYOUTS / 2 - 1)))}` }),
    ],
    [
      "created: one day a month ago",
      (i) => ({
        created: {
          startTime: timestampFromMs(now - (30 + (i % 5)) * DAY),
          endTime: timestampFromMs(now - (29 + (i % 5)) * DAY),
        },
      }),
    ],
    [
      "wallet_id + states [FAILED]",
      (i) => ({ walletId: pick(variety.wallets, i).id, states: [PayoutState.FAILED] }),
    ],
  ];

  const ops: ReadOp[] = [];
  const measure = async (
    name: string,
    call: (i: number) => Promise<number>,
    plans: () => Promise<Plan[]>,
  ) => {
    const latencies: number[] = [];
    let errors = 0;
    let rows = 0;
    const start = performance.now();
    for (let i = 0; i < CALLS && (i < 5 || performance.now() - start < MAX_MS); i++) {
      const c0 = performance.now();
      try {
        const n = await call(i);
        if (i === 0) rows = n;
        latencies.push(performance.now() - c0);
      } catch (err) {
        errors++;
        if (errors === 1) log(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const p = await plans();
    const seqScans = [
      ...new Set(
        p.flatMap((x) => [...x.plan.matchAll(/Seq Scan on (\w+)/g)].map((m) => m[1] ?? "")),
      ),
    ];
    const op: ReadOp = {
      name,
      calls: latencies.length,
      errors,
      p50: quantile(latencies, 0.5),
      p95: quantile(latencies, 0.95),
      max: Math.max(0, ...latencies),
      rows,
      plans: p,
      seqScans,
    };
    ops.push(op);
    log(
      `${name}: p50 ${op.p50.toFixed(1)} ms, p95 ${op.p95.toFixed(1)} ms over ${op.calls} calls, ${rows} rows, seq scans: ${seqScans.join(", ") || "none"}`,
    );
  };
  const inProcess = (run: Parameters<typeof explainStatements>[1]) => () =>
    explainStatements(stack.db.url, run);

  // Warm-up: the first calls load catalog caches and the connection pool.
  for (let i = 0; i < 5; i++) await client.getPayout({ id: id(i) });

  await measure(
    "GetPayout",
    async (i) => ((await client.getPayout({ id: id(i) })).payout ? 1 : 0),
    inProcess(async (db) => {
      const row = await findPayout(db, id(7));
      await attemptsOf(db, row ? [row.id] : []);
    }),
  );
  for (const [name, init] of lists) {
    await measure(
      `ListPayouts ${name}`,
      async (i) => (await client.listPayouts(init(i))).payouts.length,
      inProcess((db) => listPayouts(db, create(ListPayoutsRequestSchema, init(1)))),
    );
  }
  const statsReq = (walletId: string) => ({
    granularity: StatsGranularity.DAY,
    range: { startTime: timestampFromMs(monthFrom), endTime: timestampFromMs(monthTo) },
    walletId,
  });
  await measure(
    "GetPayoutStats 30 days by day",
    async () => (await client.getPayoutStats(statsReq(""))).buckets.length,
    inProcess((db) =>
      payoutStats(db, {
        granularity: "day",
        from: monthFrom,
        to: monthTo,
        routes: [],
        walletId: "",
      }),
    ),
  );
  await measure(
    "GetPayoutStats 30 days by day, one wallet",
    async (i) =>
      (await client.getPayoutStats(statsReq(pick(variety.wallets, i).id))).buckets.length,
    inProcess((db) =>
      payoutStats(db, {
        granularity: "day",
        from: monthFrom,
        to: monthTo,
        routes: [],
        walletId: variety.wallets[1]?.id ?? "",
      }),
    ),
  );
  await measure(
    "ExportPayouts 30 days, first chunk",
    async () => {
      for await (const chunk of client.exportPayouts({
        format: ExportFormat.CSV,
        created: { startTime: timestampFromMs(monthFrom), endTime: timestampFromMs(monthTo) },
      }))
        return chunk.rowCount;
      return 0;
    },
    inProcess(async (db) => {
      const q = { format: "CSV" as const, from: monthFrom, to: monthTo, states: [], routes: [] };
      for await (const _ of exportPayouts(db, q)) break;
    }),
  );
  const exports: ReadsResult["exports"] = [];
  for (let r = 0; r < EXPORT_RUNS; r++) {
    const e0 = performance.now();
    let rows = 0;
    let bytes = 0;
    let complete = false;
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), EXPORT_MS);
    try {
      for await (const chunk of client.exportPayouts(
        {
          format: ExportFormat.CSV,
          created: { startTime: timestampFromMs(monthFrom), endTime: timestampFromMs(monthTo) },
        },
        { signal: stop.signal },
      )) {
        rows += chunk.rowCount;
        bytes += Buffer.byteLength(chunk.data);
        complete = chunk.done;
      }
    } catch (err) {
      if (!stop.signal.aborted) throw err;
    } finally {
      clearTimeout(timer);
    }
    const seconds = (performance.now() - e0) / 1000;
    exports.push({ rows, seconds, rowsPerSecond: rows / seconds, mib: bytes / 2 ** 20, complete });
    log(
      `ExportPayouts 30 days CSV: ${rows} rows in ${seconds.toFixed(1)} s = ${(rows / seconds).toFixed(0)} rows/s${complete ? "" : " (stopped)"}`,
    );
  }
  await seedPool.end();

  const result: ReadsResult = {
    date: new Date().toISOString(),
    label: values.label ?? "",
    machine: { cpus: cpus().length, loadStart, loadEnd: loadavg() },
    payouts: PAYOUTS,
    days: DAYS,
    seedSeconds,
    tables,
    ops,
    exports,
  };
  const stamp = result.date.slice(0, 19).replace(/:/g, "-");
  const before = values.compare
    ? (JSON.parse(readFileSync(values.compare, "utf8")) as ReadsResult)
    : undefined;
  const md = renderReads(result, before);
  const dir = new URL("./results/", import.meta.url);
  writeFileSync(new URL(`reads-${stamp}.json`, dir), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(new URL(`reads-${stamp}.md`, dir), md);
  console.log(md.split("\n## Plans")[0]);
  log(`wrote bench/results/reads-${stamp}.md`);
} finally {
  await stack.stop();
}
process.exit(0);

function renderReads(r: ReadsResult, before: ReadsResult | undefined): string {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" / ");
  const out = [
    `# Reads at scale ${r.date}${r.label ? ` (${r.label})` : ""}`,
    "",
    `${r.payouts.toLocaleString("en-US")} payouts over ${r.days} days, seeded in ${r.seedSeconds.toFixed(0)} s; ${r.machine.cpus} CPUs, load average ${load(r.machine.loadStart)} at the start, ${load(r.machine.loadEnd)} at the end.`,
    "Through Connect (HTTP/2, binary) to one core process run with tsx, one call in flight; page size 50. Latencies in ms.",
    "",
    `Tables: ${r.tables.map((t) => `${t.table} ${t.rows.toLocaleString("en-US")} rows / ${t.mib.toFixed(0)} MiB`).join(", ")}.`,
    "",
    `| read | calls | p50 | p95 | max | rows | seq scans |${before ? " before p50 | before p95 | before seq scans |" : ""}`,
    `| --- | ---: | ---: | ---: | ---: | ---: | --- |${before ? " ---: | ---: | --- |" : ""}`,
  ];
  for (const o of r.ops) {
    const b = before?.ops.find((x) => x.name === o.name);
    const extra = before
      ? ` ${b?.p50.toFixed(1) ?? "–"} | ${b?.p95.toFixed(1) ?? "–"} | ${b ? b.seqScans.join(", ") || "none" : "–"} |`
      : "";
    out.push(
      `| ${o.name} | ${o.calls}${o.errors ? ` (${o.errors} errors)` : ""} | ${o.p50.toFixed(1)} | ${o.p95.toFixed(1)} | ${o.max.toFixed(1)} | ${o.rows} | ${o.seqScans.join(", ") || "none"} |${extra}`,
    );
  }
  out.push(
    "",
    "ExportPayouts of the same 30 days, CSV: the whole stream, or what arrived before the bench's time limit where it says stopped:",
    "",
  );
  const exported = (e: ReadsResult["exports"][number]) =>
    `${e.rows.toLocaleString("en-US")} rows (${e.mib.toFixed(0)} MiB) in ${e.seconds.toFixed(1)} s: ${e.rowsPerSecond.toFixed(0)} rows/s${e.complete ? "" : " (stopped)"}`;
  for (const e of r.exports) out.push(`- ${exported(e)}`);
  for (const e of before?.exports ?? []) out.push(`- before: ${exported(e)}`);
  out.push(
    "",
    "## Plans (EXPLAIN (ANALYZE, BUFFERS) of each statement of one call, in process)",
    "",
  );
  for (const o of r.ops) {
    out.push(`### ${o.name}`, "");
    for (const p of o.plans)
      out.push("```sql", p.sql.replace(/\s+/g, " ").trim(), "```", "```", p.plan, "```", "");
  }
  return `${out.join("\n")}\n`;
}
