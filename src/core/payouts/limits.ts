import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import type { PayoutRules } from "./validate.js";

type Route = "V0" | "KYC" | "DIRECT";
type Asset = "TRX" | "USDT";

/** One route's limit for one asset, in base units. */
export interface RouteLimitView {
  route: Route;
  asset: Asset;
  perPayoutMax: bigint;
  dailyMax: bigint;
  usedToday: bigint;
  /** dailyMax − usedToday, never below 0. */
  remainingToday: bigint;
  fourEyesThreshold: bigint;
}

/** An amount that is about to count against a route's daily limit (a ValidPayout is one). */
export interface LimitCharge {
  route: Route;
  asset: Asset;
  amount: bigint;
}

const ROUTES = ["V0", "KYC", "DIRECT"] as const;
const ASSETS = ["TRX", "USDT"] as const;
const DAY_MS = 86_400_000;
// The database's clock decides the day, as it does for created_at, which the counters follow.
const TODAY = sql.fragment`(now() AT TIME ZONE 'UTC')::date`;
const Used = z.object({ used: z.bigint() });

/**
 * Checks that today's (UTC) use plus `charges` stays within each route's daily limit, or throws
 * payout.limit_exceeded (`field` names the request field). Each (route, asset) counter row of
 * daily_usage is locked until the transaction ends — in a fixed order, so two checks never
 * deadlock — and concurrent checks on the same route and asset queue on that one row; the cost
 * does not depend on how many payouts exist. The payouts stored afterwards in the same
 * transaction are counted by the database itself (migration 012), so callers only check.
 */
export async function checkDailyLimit(
  tx: CommonQueryMethods,
  rules: PayoutRules,
  charges: readonly LimitCharge[],
  field: string,
): Promise<void> {
  const sums = new Map<string, LimitCharge>();
  for (const c of charges) {
    const key = `${c.route}:${c.asset}`;
    const sum = sums.get(key);
    sums.set(key, { route: c.route, asset: c.asset, amount: (sum?.amount ?? 0n) + c.amount });
  }
  for (const [, { route, asset, amount }] of [...sums.entries()].sort(([a], [b]) =>
    a < b ? -1 : 1,
  )) {
    // A no-op upsert: creates the day's row when missing and locks it either way.
    const used = await tx.oneFirst(sql.type(Used)`
      INSERT INTO daily_usage (route, asset, day, used) VALUES (${route}, ${asset}, ${TODAY}, 0)
      ON CONFLICT (route, asset, day) DO UPDATE SET used = daily_usage.used
      RETURNING used`);
    if (used + amount > rules.limits[route].maxPerDay) throw limitExceeded(route, asset, field);
  }
}

/**
 * The common table expression (daily_limit) of a statement that stores one charge: locks the
 * day's (route, asset) counter row — creating it when missing — and answers `ok` when today's
 * use plus the charge stays within `maxPerDay`. The statement stores its payout only when ok;
 * the payout's insert trigger then counts it on the row already locked. Taking the lock in the
 * statement that stores the payout, rather than before the other writes, keeps the row locked
 * for as short a time as possible: concurrent creates queue on it from here until COMMIT.
 * Exactly what checkDailyLimit does for one charge (which batches, with several, still use).
 */
export function dailyLimitCte(charge: LimitCharge, maxPerDay: bigint) {
  return sql.fragment`daily_limit AS (
    INSERT INTO daily_usage (route, asset, day, used) VALUES (${charge.route}, ${charge.asset}, ${TODAY}, 0)
    ON CONFLICT (route, asset, day) DO UPDATE SET used = daily_usage.used
    RETURNING used + ${charge.amount} <= ${maxPerDay} AS ok)`;
}

/** payout.limit_exceeded for the daily limit of `route` (`field` names the request field). */
export function limitExceeded(route: Route, asset: Asset, field: string): AppError {
  return new AppError(
    "payout.limit_exceeded",
    `this would exceed today's ${route} limit for ${asset}`,
    { metadata: { field, limit: "per_day", route } },
  );
}

/** Every route's limits per asset with today's (UTC) use, and when today's counters reset. */
export async function routeLimits(
  db: CommonQueryMethods,
  rules: PayoutRules,
  now: number,
): Promise<{ limits: RouteLimitView[]; resetsAt: number }> {
  const rows = await db.any(sql.type(
    z.object({ route: z.string(), asset: z.string(), used: z.bigint() }),
  )`
    SELECT route, asset, used FROM daily_usage WHERE day = ${TODAY}`);
  const usedOf = new Map(rows.map((r) => [`${r.route}:${r.asset}`, r.used]));
  const limits: RouteLimitView[] = [];
  for (const route of ROUTES) {
    for (const asset of ASSETS) {
      const { maxPerPayout, maxPerDay } = rules.limits[route];
      const used = usedOf.get(`${route}:${asset}`) ?? 0n;
      limits.push({
        route,
        asset,
        perPayoutMax: maxPerPayout,
        dailyMax: maxPerDay,
        usedToday: used,
        remainingToday: used >= maxPerDay ? 0n : maxPerDay - used,
        fourEyesThreshold: rules.approvalThreshold,
      });
    }
  }
  // UTC days are exactly 86,400,000 ms in epoch time (no leap seconds), so this is midnight.
  return { limits, resetsAt: (Math.floor(now / DAY_MS) + 1) * DAY_MS };
}
