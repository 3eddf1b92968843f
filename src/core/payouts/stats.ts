import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";

/** Period length: UTC days, ISO weeks (Monday) and calendar months. */
export type Granularity = "day" | "week" | "month";

/** What GetPayoutStats aggregates. Times are ms since the epoch. */
export interface StatsQuery {
  granularity: Granularity;
  from: number;
  to: number;
  routes: string[];
  walletId: string;
}

/** The aggregate of one route in one period; money in base units. */
export interface StatsBucket {
  periodStart: number;
  periodEnd: number;
  route: string;
  createdCount: bigint;
  confirmedCount: bigint;
  failedCount: bigint;
  /** asset → confirmed amount. */
  confirmedTotals: Map<string, bigint>;
  feeSun: bigint;
  energyUsed: bigint;
  bandwidthUsed: bigint;
  serviceFeeSun: bigint;
}

const Row = z.object({
  period_start: z.number(),
  period_end: z.number(),
  route: z.string(),
  kind: z.enum(["CREATED", "CONFIRMED", "FAILED"]),
  asset: z.string(),
  n: z.bigint(),
  amount: z.bigint(),
  fee: z.bigint(),
  energy: z.bigint(),
  bandwidth: z.bigint(),
  service: z.bigint(),
});

const MAX_PERIODS = 366;

/**
 * Aggregates payouts per period and route over every period overlapping [from, to): created
 * by created_at, confirmed by confirmed_at, failed by when they failed (their last update);
 * fees, energy and bandwidth count in the period the payout settled, reverted ones included.
 */
export async function payoutStats(db: CommonQueryMethods, q: StatsQuery): Promise<StatsBucket[]> {
  if (!(q.to > q.from))
    throw new AppError("request.invalid", "range.end_time must be after range.start_time", {
      metadata: { field: "range" },
    });
  const unit = sql.literalValue(q.granularity);
  const step = sql.literalValue(`1 ${q.granularity}`);
  const ts = (ms: number) =>
    sql.fragment`('epoch'::timestamptz + ${ms} * interval '1 millisecond')`;
  // Periods are cut and stepped in UTC wall time, then turned back into instants, so that
  // the session's time zone (and its DST) never shifts a boundary.
  const local = (t: ReturnType<typeof ts>) =>
    sql.fragment`date_trunc(${unit}, (${t}) AT TIME ZONE 'UTC')`;
  const utc = (t: ReturnType<typeof ts>) => sql.fragment`((${t}) AT TIME ZONE 'UTC')`;
  const lo = utc(local(ts(q.from)));
  const hi = utc(sql.fragment`${local(ts(q.to - 1))} + ${step}::interval`);
  const periods = await db.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM generate_series(${local(ts(q.from))}, ${local(ts(q.to - 1))}, ${step}::interval)`);
  if (periods > MAX_PERIODS)
    throw new AppError("request.invalid", `the range covers more than ${MAX_PERIODS} periods`, {
      metadata: { field: "range" },
    });
  const filters = [sql.fragment`true`];
  if (q.routes.length) filters.push(sql.fragment`x.route = ANY(${sql.array(q.routes, "text")})`);
  if (q.walletId !== "") filters.push(sql.fragment`o.wallet_id = ${q.walletId}`);
  const where = sql.join(filters, sql.fragment` AND `);
  // Each kind of event is read by the index of its own time column, within the range only:
  // created by payouts_created (or operations_wallet for one wallet: both rows of a payout
  // have the same created_at), confirmed by operations_confirmed, failed by
  // operations_failed_updated (migration 015).
  const inRange = (col: ReturnType<typeof sql.fragment>) =>
    sql.fragment`${col} >= ${lo} AND ${col} < ${hi}`;
  const rows = await db.any(sql.type(Row)`
    WITH ev AS (
      SELECT x.route, x.created_at AS at, 'CREATED' AS kind, o.asset, 0::bigint AS amount, 0::bigint AS fee,
             0::bigint AS energy, 0::bigint AS bandwidth, 0::bigint AS service
      FROM operations o JOIN payouts x ON x.id = o.id
      WHERE ${inRange(sql.fragment`x.created_at`)} AND ${inRange(sql.fragment`o.created_at`)} AND ${where}
      UNION ALL
      SELECT x.route, o.confirmed_at, 'CONFIRMED', o.asset, o.amount, coalesce(o.fee_sun, 0), coalesce(o.energy_used, 0),
             coalesce(o.bandwidth_used, 0), x.service_fee
      FROM operations o JOIN payouts x ON x.id = o.id
      WHERE o.state = 'CONFIRMED' AND o.confirmed_at IS NOT NULL AND ${inRange(sql.fragment`o.confirmed_at`)} AND ${where}
      UNION ALL
      SELECT x.route, o.updated_at, 'FAILED', o.asset, 0, coalesce(o.fee_sun, 0), coalesce(o.energy_used, 0),
             coalesce(o.bandwidth_used, 0), 0
      FROM operations o JOIN payouts x ON x.id = o.id
      WHERE o.state = 'FAILED' AND ${inRange(sql.fragment`o.updated_at`)} AND ${where}
    )
    SELECT ${utc(local(sql.fragment`at`))} AS period_start,
           ${utc(sql.fragment`${local(sql.fragment`at`)} + ${step}::interval`)} AS period_end,
           route, kind, asset, count(*)::bigint AS n, sum(amount)::bigint AS amount, sum(fee)::bigint AS fee,
           sum(energy)::bigint AS energy, sum(bandwidth)::bigint AS bandwidth, sum(service)::bigint AS service
    FROM ev GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 3`);
  return fold(rows);
}

function fold(rows: readonly z.infer<typeof Row>[]): StatsBucket[] {
  const buckets = new Map<string, StatsBucket>();
  for (const r of rows) {
    const key = `${r.period_start}|${r.route}`;
    let b = buckets.get(key);
    if (!b) {
      b = {
        periodStart: r.period_start,
        periodEnd: r.period_end,
        route: r.route,
        createdCount: 0n,
        confirmedCount: 0n,
        failedCount: 0n,
        confirmedTotals: new Map(),
        feeSun: 0n,
        energyUsed: 0n,
        bandwidthUsed: 0n,
        serviceFeeSun: 0n,
      };
      buckets.set(key, b);
    }
    if (r.kind === "CREATED") b.createdCount += r.n;
    if (r.kind === "FAILED") b.failedCount += r.n;
    if (r.kind === "CONFIRMED") {
      b.confirmedCount += r.n;
      b.confirmedTotals.set(r.asset, (b.confirmedTotals.get(r.asset) ?? 0n) + r.amount);
    }
    b.feeSun += r.fee;
    b.energyUsed += r.energy;
    b.bandwidthUsed += r.bandwidth;
    b.serviceFeeSun += r.service;
  }
  return [...buckets.values()].sort(
    (a, b) => a.periodStart - b.periodStart || a.route.localeCompare(b.route),
  );
}
