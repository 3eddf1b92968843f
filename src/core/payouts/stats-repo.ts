import { type CommonQueryMethods, type FragmentSqlToken, sql } from "slonik";
import { z } from "zod";
import type { StatsQuery } from "./stats.js";

/** One aggregate row: a kind of event of one route and asset in one period. */
export const StatsRow = z.object({
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
export type StatsRow = z.infer<typeof StatsRow>;

/**
 * The period boundaries of a query. Periods are cut and stepped in UTC wall time, then turned
 * back into instants, so that the session's time zone (and its DST) never shifts a boundary.
 */
function periods(q: StatsQuery) {
  const unit = sql.literalValue(q.granularity);
  const step = sql.literalValue(`1 ${q.granularity}`);
  const ts = (ms: number) =>
    sql.fragment`('epoch'::timestamptz + ${ms} * interval '1 millisecond')`;
  const local = (t: FragmentSqlToken) =>
    sql.fragment`date_trunc(${unit}, (${t}) AT TIME ZONE 'UTC')`;
  const utc = (t: FragmentSqlToken) => sql.fragment`((${t}) AT TIME ZONE 'UTC')`;
  return { step, local, utc, first: local(ts(q.from)), last: local(ts(q.to - 1)) };
}

/** How many periods of q's granularity overlap [from, to). */
export async function periodCount(db: CommonQueryMethods, q: StatsQuery): Promise<number> {
  const { step, first, last } = periods(q);
  return db.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM generate_series(${first}, ${last}, ${step}::interval)`);
}

/** The created, confirmed and failed aggregates per period, route and asset of q. */
export async function statsRows(db: CommonQueryMethods, q: StatsQuery): Promise<StatsRow[]> {
  const { step, local, utc, first, last } = periods(q);
  const lo = utc(first);
  const hi = utc(sql.fragment`${last} + ${step}::interval`);
  const filters = [sql.fragment`true`];
  if (q.routes.length) filters.push(sql.fragment`x.route = ANY(${sql.array(q.routes, "text")})`);
  if (q.walletId !== "") filters.push(sql.fragment`o.wallet_id = ${q.walletId}`);
  const where = sql.join(filters, sql.fragment` AND `);
  // Each kind of event is read by the index of its own time column, within the range only:
  // created by payouts_created (or operations_wallet for one wallet: both rows of a payout
  // have the same created_at), confirmed by operations_confirmed, failed by
  // operations_failed_updated (migration 015).
  const inRange = (col: FragmentSqlToken) => sql.fragment`${col} >= ${lo} AND ${col} < ${hi}`;
  const rows = await db.any(sql.type(StatsRow)`
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
  return [...rows];
}
