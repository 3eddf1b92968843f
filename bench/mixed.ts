/**
 * npm run bench:mixed: a sustained mixed load at a fixed arrival rate against real core,
 * signer and devnet processes (engine running), by default for 10 minutes.
 *
 * Open loop: request k is due at start + k / rate, whatever happened to the ones before, and
 * its latency is counted from that due time (not from when it was sent), so a stall shows as
 * latency instead of as fewer requests (no coordinated omission). Of every 10 arrivals, 3 are
 * CreatePayout, 4 GetPayout (of a payout created in the run or seeded) and 3 ListPayouts
 * (filters in turn: none, a state, the wallet, a deep page by cursor, a route); one
 * CreatePayoutBatch is due every --batch-every seconds on its own schedule.
 *
 * Writes bench/results/mixed-<date>.json, .md (summary, load, devnet block time and lag,
 * tables at the start and the end), .svg (p50/p95/p99 per operation and throughput over time)
 * and -rows.svg (CreatePayout req/s against payouts stored, per 10 s window).
 *
 *   npm run bench:mixed [-- --minutes 10 --rate 30 --batch-every 60 --batch-size 100
 *                          --seed 100000 --block-ms 3000 --solid-lag 19 --code built|tsx]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { createPool, sql } from "slonik";
import { z } from "zod";
import { fundedWallet, startChaosStack } from "../chaos/stack.js";
import { encodeCursor } from "../src/core/payouts/queries.js";
import { Asset } from "../src/gen/tronpay/v1/common_pb.js";
import {
  CreatePayoutRequestSchema,
  type ListPayoutsRequest,
  ListPayoutsRequestSchema,
  PayoutRoute,
  PayoutService,
  PayoutState,
} from "../src/gen/tronpay/v1/payout_pb.js";
import { TRX } from "../test/devnet/helpers.js";
import { seedPayouts } from "../test/helpers/seed-payouts.js";
import { lineChartSvg, type Panel } from "./chart.js";
import { RECIPIENT } from "./clients.js";
import { prepareCode } from "./code.js";
import { type TableSize, tableSizes } from "./report.js";
import { quantile } from "./stats.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    rate: { type: "string", default: "30" },
    "batch-every": { type: "string", default: "60" },
    "batch-size": { type: "string", default: "100" },
    seed: { type: "string", default: "100000" },
    "block-ms": { type: "string", default: "3000" },
    "solid-lag": { type: "string", default: "19" },
    code: { type: "string", default: "built" },
  },
});
const SECONDS = Math.round(Number(values.minutes) * 60);
const RATE = Number(values.rate);
const BATCH_EVERY = Number(values["batch-every"]);
const BATCH_SIZE = Number(values["batch-size"]);
const SEED = Number(values.seed);
const BLOCK_MS = Number(values["block-ms"]);
const SOLID_LAG = Number(values["solid-lag"]);
const WINDOW = 10; // seconds per point of the latency charts
const MAX_IN_FLIGHT = 5_000;
const log = (m: string) => console.error(`[bench:mixed] ${m}`);

type Op = "CreatePayout" | "GetPayout" | "ListPayouts" | "CreatePayoutBatch";
const OPS: Op[] = ["CreatePayout", "GetPayout", "ListPayouts", "CreatePayoutBatch"];
const MIX: Op[] = [
  "CreatePayout",
  "GetPayout",
  "ListPayouts",
  "CreatePayout",
  "GetPayout",
  "ListPayouts",
  "CreatePayout",
  "GetPayout",
  "ListPayouts",
  "GetPayout",
];

/** One request: due second (from the start), latency from its due time, and how it ended. */
interface Sample {
  op: Op;
  due: number;
  done: number;
  ms: number;
  error: string;
}

/** The devnet at one moment: head block, its time, and the solidified height. */
interface ChainSample {
  at: number;
  head: number;
  headTime: number;
  solid: number;
}

const code = prepareCode(values.code);
const codeNote = code.note;
log(`code: ${codeNote}`);

const stack = await startChaosStack({
  cores: 1,
  withEdge: false,
  built: code.built,
  devnet: { blockTimeMs: BLOCK_MS, solidLag: SOLID_LAG },
  coreEnv: { TRONPAY_V0_MAX_PER_DAY: "100000000" },
});
try {
  const wallet = await fundedWallet(stack, "mixed", {
    trxSun: 10_000_000n * TRX,
    usdt: 10n ** 15n,
  });
  const seedPool = await createPool(stack.db.url, {
    maximumPoolSize: 1,
    statementTimeout: "DISABLE_TIMEOUT",
  });
  // Payouts already stored (settled: the engine has nothing to do with them).
  await seedPayouts(seedPool, {
    walletId: wallet.id,
    ownerAddress: wallet.address,
    recipientAddress: RECIPIENT,
    total: SEED,
    today: Math.min(SEED, 5_000),
    days: 60,
    tag: "mixed",
  });
  for (const t of ["operations", "payouts"])
    await seedPool.query(sql.unsafe`VACUUM ANALYZE ${sql.identifier([t])}`);
  const tablesStart: TableSize[] = await tableSizes(seedPool);
  log(
    `seeded ${SEED} payouts; load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" / ")}`,
  );
  const deep = await seedPool.maybeOne(sql.type(z.object({ id: z.string(), us: z.bigint() }))`
    SELECT id, (extract(epoch FROM created_at) * 1000000)::bigint AS us FROM payouts
    ORDER BY created_at DESC, id DESC OFFSET ${Math.floor(SEED / 2)} LIMIT 1`);
  const deepToken = deep ? encodeCursor(deep.us, deep.id) : "";

  const client = stack.client(PayoutService, stack.coreUrls[0] ?? "");
  const created: string[] = [];
  const lists: ((k: number) => ListPayoutsRequest)[] = [
    () => create(ListPayoutsRequestSchema, {}),
    () => create(ListPayoutsRequestSchema, { states: [PayoutState.CONFIRMED] }),
    () => create(ListPayoutsRequestSchema, { walletId: wallet.id }),
    () => create(ListPayoutsRequestSchema, { page: { pageToken: deepToken } }),
    () => create(ListPayoutsRequestSchema, { routes: [PayoutRoute.V0] }),
  ];
  const calls: Record<Op, (k: number) => Promise<unknown>> = {
    CreatePayout: async (k) => {
      const res = await client.createPayout(
        create(CreatePayoutRequestSchema, {
          idempotencyKey: `mixed-${k}`,
          walletId: wallet.id,
          recipient: { case: "recipientAddress", value: RECIPIENT },
          amount: { asset: k % 2 ? Asset.TRX : Asset.USDT, value: "0.000001" },
          route: PayoutRoute.V0,
        }),
        { timeoutMs: 60_000 },
      );
      if (res.payout) created.push(res.payout.id);
    },
    GetPayout: (k) =>
      client.getPayout(
        {
          id:
            k % 2 && created.length > 0
              ? (created[created.length - 1 - (k % Math.min(created.length, 500))] ?? "")
              : `po_mixed_${1 + ((k * 7919) % Math.max(1, SEED))}`,
        },
        { timeoutMs: 60_000 },
      ),
    ListPayouts: (k) =>
      client.listPayouts(lists[Math.floor(k / 10) % lists.length]?.(k) ?? {}, {
        timeoutMs: 60_000,
      }),
    CreatePayoutBatch: (k) =>
      client.createPayoutBatch(
        {
          idempotencyKey: `mixed-batch-${k}`,
          items: Array.from({ length: BATCH_SIZE }, (_, i) => ({
            itemReference: `b${k}-${i}`,
            walletId: wallet.id,
            recipient: { case: "recipientAddress" as const, value: RECIPIENT },
            // Distinct amounts: a batch refuses two items alike (wallet, recipient, amount).
            amount: {
              asset: i % 2 ? Asset.TRX : Asset.USDT,
              value: `0.${String(i + 1).padStart(6, "0")}`,
            },
            route: PayoutRoute.V0,
          })),
        },
        { timeoutMs: 120_000 },
      ),
  };
  if (SEED > 0) await calls.GetPayout(0); // warm-up: connection and caches
  await calls.ListPayouts(0);

  const samples: Sample[] = [];
  const chain: ChainSample[] = [];
  const stored: { at: number; payouts: number }[] = [];
  const loads: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let dropped = 0;
  const firstErrors = new Set<Op>();
  const start = performance.now() + 500;
  const chainNow = (): ChainSample => {
    const c = stack.net.devnet.node.chain;
    return {
      at: (performance.now() - start) / 1000,
      head: c.head.number,
      headTime: c.head.timestamp,
      solid: c.solidHeight,
    };
  };
  const fire = (op: Op, k: number, dueAt: number) => {
    if (inFlight >= MAX_IN_FLIGHT) {
      dropped++;
      return;
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const record = (error: string) => {
      inFlight--;
      const end = performance.now();
      samples.push({
        op,
        due: (dueAt - start) / 1000,
        done: (end - start) / 1000,
        ms: end - dueAt,
        error,
      });
    };
    calls[op](k).then(
      () => record(""),
      (err) => {
        const e = ConnectError.from(err);
        if (!firstErrors.has(op)) {
          firstErrors.add(op);
          log(`${op} failed: ${e.message}`);
        }
        record(e.code.toString());
      },
    );
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
  const total = SECONDS * RATE;
  const batches = BATCH_EVERY > 0 ? Math.floor(SECONDS / BATCH_EVERY) : 0;
  let k = 0;
  let b = 0;
  let nextSample = 0;
  let lastLog = performance.now();
  const loadStart = loadavg();
  const countPool = await createPool(stack.db.url, { maximumPoolSize: 1 });
  const sampler = (async () => {
    while (performance.now() - start < SECONDS * 1000) {
      chain.push(chainNow());
      const n = await countPool.oneFirst(
        sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM payouts`,
      );
      stored.push({ at: (performance.now() - start) / 1000, payouts: n });
      loads.push(loadavg()[0] ?? 0);
      nextSample += 5;
      await sleep(start + nextSample * 1000 - performance.now());
    }
  })();
  log(
    `${SECONDS} s at ${RATE} req/s (${total} requests) + a batch of ${BATCH_SIZE} every ${BATCH_EVERY} s`,
  );
  while (k < total || b < batches) {
    const now = performance.now();
    while (k < total && start + (k * 1000) / RATE <= now) {
      fire(MIX[k % MIX.length] as Op, k, start + (k * 1000) / RATE);
      k++;
    }
    while (b < batches && start + b * BATCH_EVERY * 1000 + 1000 <= now) {
      fire("CreatePayoutBatch", b, start + b * BATCH_EVERY * 1000 + 1000);
      b++;
    }
    if (now - lastLog > 60_000) {
      lastLog = now;
      const done = samples.length;
      log(`${Math.round((now - start) / 1000)} s: ${done} answered, ${inFlight} in flight`);
    }
    const nextDue = Math.min(
      k < total ? start + (k * 1000) / RATE : Number.POSITIVE_INFINITY,
      b < batches ? start + b * BATCH_EVERY * 1000 + 1000 : Number.POSITIVE_INFINITY,
    );
    await sleep(Math.min(nextDue - performance.now(), 50));
  }
  log(`all ${k} requests and ${b} batches due; waiting for ${inFlight} in flight`);
  const drainUntil = performance.now() + 120_000;
  while (inFlight > 0 && performance.now() < drainUntil) await sleep(100);
  await sampler;
  chain.push(chainNow());
  const tablesEnd = await tableSizes(seedPool);
  const states = await seedPool.any(sql.type(z.object({ state: z.string(), n: z.number() }))`
    SELECT o.state, count(*)::int AS n FROM operations o JOIN payouts p ON p.id = o.id
    WHERE o.created_by <> 'seed' GROUP BY 1 ORDER BY 1`);
  await countPool.end();
  await seedPool.end();

  const result = summarize({
    samples,
    chain,
    stored,
    states: [...states],
    tables: { start: tablesStart, end: tablesEnd },
    inFlight: { max: maxInFlight, left: inFlight, dropped },
    load: { start: loadStart, oneMinute: loads },
  });
  const stamp = result.date.slice(0, 19).replace(/:/g, "-");
  const dir = new URL("./results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL(`mixed-${stamp}.json`, dir), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(new URL(`mixed-${stamp}.svg`, dir), overTimeSvg(result));
  writeFileSync(new URL(`mixed-${stamp}-rows.svg`, dir), rowsSvg(result));
  const md = renderMixed(result, stamp);
  writeFileSync(new URL(`mixed-${stamp}.md`, dir), md);
  console.log(md);
} finally {
  await stack.stop();
}
process.exit(0);

interface Window {
  /** Start of the window, seconds from the start. */
  t: number;
  /** op → p50/p95/p99 (ms) of the requests due in the window, and answers/s that ended in it. */
  ops: Record<string, { p50: number; p95: number; p99: number; perSecond: number; errors: number }>;
  /** Payouts stored at the window's start (sampled). */
  payouts: number;
}

interface MixedResult {
  date: string;
  code: string;
  /** Load averages at the start and the end; the 1-minute one every 5 s during the run. */
  machine: { cpus: number; loadStart: number[]; loadEnd: number[]; oneMinute: number[] };
  seconds: number;
  rate: number;
  mix: string;
  batch: { every: number; size: number };
  devnet: {
    blockMs: number;
    solidLag: number;
    measuredBlockMs: number;
    lagBlocks: { min: number; max: number };
  };
  totals: Record<
    string,
    {
      n: number;
      errors: Record<string, number>;
      p50: number;
      p95: number;
      p99: number;
      max: number;
      perSecond: number;
    }
  >;
  inFlight: { max: number; left: number; dropped: number };
  perSecond: { t: number; answers: Record<string, number> }[];
  windows: Window[];
  states: { state: string; n: number }[];
  tables: { start: TableSize[]; end: TableSize[] };
}

function summarize(x: {
  samples: Sample[];
  chain: ChainSample[];
  stored: { at: number; payouts: number }[];
  states: { state: string; n: number }[];
  tables: { start: TableSize[]; end: TableSize[] };
  inFlight: { max: number; left: number; dropped: number };
  load: { start: number[]; oneMinute: number[] };
}): MixedResult {
  const ok = (s: Sample) => s.error === "";
  const totals: MixedResult["totals"] = {};
  for (const op of OPS) {
    const of = x.samples.filter((s) => s.op === op);
    const ms = of.filter(ok).map((s) => s.ms);
    const errors: Record<string, number> = {};
    for (const s of of) if (!ok(s)) errors[s.error] = (errors[s.error] ?? 0) + 1;
    totals[op] = {
      n: of.length,
      errors,
      p50: quantile(ms, 0.5),
      p95: quantile(ms, 0.95),
      p99: quantile(ms, 0.99),
      max: Math.max(0, ...ms),
      perSecond: ms.length / SECONDS,
    };
  }
  const perSecond: MixedResult["perSecond"] = [];
  for (let t = 0; t < SECONDS; t++) perSecond.push({ t, answers: {} });
  for (const s of x.samples.filter(ok)) {
    const row = perSecond[Math.floor(s.done)];
    if (row) row.answers[s.op] = (row.answers[s.op] ?? 0) + 1;
  }
  const windows: Window[] = [];
  for (let t = 0; t < SECONDS; t += WINDOW) {
    const ops: Window["ops"] = {};
    for (const op of OPS) {
      const due = x.samples.filter((s) => s.op === op && s.due >= t && s.due < t + WINDOW);
      const ms = due.filter(ok).map((s) => s.ms);
      const ended = x.samples.filter(
        (s) => s.op === op && ok(s) && s.done >= t && s.done < t + WINDOW,
      );
      ops[op] = {
        p50: quantile(ms, 0.5),
        p95: quantile(ms, 0.95),
        p99: quantile(ms, 0.99),
        perSecond: ended.length / WINDOW,
        errors: due.length - ms.length,
      };
    }
    const at = x.stored.filter((s) => s.at <= t + 0.5).at(-1) ?? x.stored[0];
    windows.push({ t, ops, payouts: at?.payouts ?? 0 });
  }
  const first = x.chain[0];
  const last = x.chain.at(-1);
  const blocks = first && last ? last.head - first.head : 0;
  const lags = x.chain.map((c) => c.head - c.solid);
  return {
    date: new Date().toISOString(),
    code: codeNote,
    machine: {
      cpus: cpus().length,
      loadStart: x.load.start,
      loadEnd: loadavg(),
      oneMinute: x.load.oneMinute,
    },
    seconds: SECONDS,
    rate: RATE,
    mix: "of every 10 arrivals: 3 CreatePayout, 4 GetPayout, 3 ListPayouts",
    batch: { every: BATCH_EVERY, size: BATCH_SIZE },
    devnet: {
      blockMs: BLOCK_MS,
      solidLag: SOLID_LAG,
      measuredBlockMs: first && last && blocks > 0 ? (last.headTime - first.headTime) / blocks : 0,
      lagBlocks: { min: Math.min(...lags), max: Math.max(...lags) },
    },
    totals,
    inFlight: x.inFlight,
    perSecond,
    windows,
    states: x.states,
    tables: x.tables,
  };
}

function overTimeSvg(r: MixedResult): string {
  const cats = r.windows.map((w) => `${w.t}`);
  const panels: Panel[] = ["CreatePayout", "GetPayout", "ListPayouts"].map((op) => ({
    title: `${op} latency (ms)`,
    series: (["p50", "p95", "p99"] as const).map((q) => ({
      name: q,
      values: r.windows.map((w) => w.ops[op]?.[q] ?? 0),
    })),
  }));
  panels.push({
    title: "answers per second",
    series: [
      ...["CreatePayout", "GetPayout", "ListPayouts"].map((op) => ({
        name: `${op}/s`,
        values: r.windows.map((w) => w.ops[op]?.perSecond ?? 0),
      })),
      {
        name: "all/s",
        values: r.windows.map((w) => Object.values(w.ops).reduce((s, o) => s + o.perSecond, 0)),
      },
    ],
  });
  return lineChartSvg(
    `Mixed load at ${r.rate} req/s for ${r.seconds / 60} min (${WINDOW} s windows; latency from the due time)`,
    "ms or req/s",
    cats,
    panels,
    { xLabel: "seconds from start", maxLabels: 7, dots: false },
  );
}

function rowsSvg(r: MixedResult): string {
  const cats = r.windows.map((w) => `${Math.round(w.payouts / 1000)}k`);
  return lineChartSvg(
    `CreatePayout during the mixed load against payouts stored (${WINDOW} s windows)`,
    "req/s or ms",
    cats,
    [
      {
        title: "CreatePayout answers per second",
        series: [
          {
            name: "CreatePayout/s",
            values: r.windows.map((w) => w.ops.CreatePayout?.perSecond ?? 0),
          },
        ],
      },
      {
        title: "CreatePayout p95 (ms)",
        series: [{ name: "p95", values: r.windows.map((w) => w.ops.CreatePayout?.p95 ?? 0) }],
      },
    ],
    { xLabel: "payouts stored", maxLabels: 6, dots: false },
  );
}

function renderMixed(r: MixedResult, stamp: string): string {
  const sizes = (t: TableSize[]) =>
    t
      .map((x) => `${x.table} ${x.rows.toLocaleString("en-US")} rows / ${x.mib.toFixed(0)} MiB`)
      .join(", ");
  const out = [
    `# Mixed load ${r.date}`,
    "",
    `${r.seconds} s at a fixed arrival rate of ${r.rate} req/s (open loop; latency from each request's due time), ${r.mix}; one CreatePayoutBatch of ${r.batch.size} every ${r.batch.every} s. Connect (HTTP/2, binary) to one core; signer and devnet as separate processes; the engine running. Code: ${r.code}.`,
    "",
    `${r.machine.cpus} CPUs shared with other work; load average ${r.machine.loadStart.map((l) => l.toFixed(2)).join(" / ")} at the start, ${r.machine.loadEnd.map((l) => l.toFixed(2)).join(" / ")} at the end; the 1-minute load during the run ${Math.min(...r.machine.oneMinute).toFixed(1)}–${Math.max(...r.machine.oneMinute).toFixed(1)}.`,
    "",
    `Devnet: ${r.devnet.blockMs} ms blocks configured, ${r.devnet.measuredBlockMs.toFixed(0)} ms measured (head timestamps); solidification ${r.devnet.solidLag} blocks behind the head configured, ${r.devnet.lagBlocks.min}–${r.devnet.lagBlocks.max} observed.`,
    "",
    `Tables at the start: ${sizes(r.tables.start)}.`,
    "",
    `Tables at the end: ${sizes(r.tables.end)}.`,
    "",
    "| operation | requests | errors | answers/s | p50 ms | p95 ms | p99 ms | max ms |",
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const [op, t] of Object.entries(r.totals)) {
    const errs = Object.entries(t.errors)
      .map(([c, n]) => `${n} (code ${c})`)
      .join(", ");
    out.push(
      `| ${op} | ${t.n} | ${errs || "0"} | ${t.perSecond.toFixed(2)} | ${t.p50.toFixed(1)} | ${t.p95.toFixed(1)} | ${t.p99.toFixed(1)} | ${t.max.toFixed(0)} |`,
    );
  }
  out.push(
    "",
    `In flight: at most ${r.inFlight.max}; ${r.inFlight.left} still unanswered 120 s after the last was due; ${r.inFlight.dropped} not sent (over ${MAX_IN_FLIGHT} in flight).`,
    "",
    `Payouts created in the run, by state at the end: ${r.states.map((s) => `${s.state} ${s.n}`).join(", ") || "none"}.`,
    "",
    `![over time](mixed-${stamp}.svg)`,
    "",
    `![CreatePayout against payouts stored](mixed-${stamp}-rows.svg)`,
    "",
    "Per 10 s window (requests due in the window; answers/s of those answered in it):",
    "",
    "| s | payouts stored | Create p50/p95/p99 | Get p50/p95/p99 | List p50/p95/p99 | Create/s | Get/s | List/s |",
    "| ---: | ---: | --- | --- | --- | ---: | ---: | ---: |",
  );
  const q = (o: Window["ops"][string] | undefined) =>
    o ? `${o.p50.toFixed(0)}/${o.p95.toFixed(0)}/${o.p99.toFixed(0)}` : "–";
  for (const w of r.windows)
    out.push(
      `| ${w.t} | ${w.payouts.toLocaleString("en-US")} | ${q(w.ops.CreatePayout)} | ${q(w.ops.GetPayout)} | ${q(w.ops.ListPayouts)} | ${(w.ops.CreatePayout?.perSecond ?? 0).toFixed(1)} | ${(w.ops.GetPayout?.perSecond ?? 0).toFixed(1)} | ${(w.ops.ListPayouts?.perSecond ?? 0).toFixed(1)} |`,
    );
  return `${out.join("\n")}\n`;
}
