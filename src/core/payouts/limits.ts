import { type CommonQueryMethods, type FragmentSqlToken, sql } from "slonik";
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
 * The one daily-limit check of every path that makes a payout count (create, retry, batches):
 * today's (UTC) use plus `charges` must stay within each route's daily limit (rules.limits), or
 * payout.limit_exceeded (`field` names the request field). It is checked either
 *
 * - `"now"` (retry, batches): each (route, asset) counter row of daily_usage is locked until
 *   the transaction ends — in a fixed order, so two checks never deadlock — and checked;
 *   concurrent checks on the same route and asset queue on that one row, and the cost does not
 *   depend on how many payouts exist. The payouts stored or requeued afterwards in the same
 *   transaction are counted by the database itself (migrations 012 and 014), on the rows
 *   already locked, so callers only check; or
 * - `"commit"` (a single create): the returned expression, selected by the statement that
 *   stores the payout, makes the transaction's commit check it (limitAtCommit), so that the
 *   counter row is not held through the create's other statements and no round trip is added.
 *   That check's error names no field (migration 014), so `field` must be "".
 */
export function checkDailyLimit(
  tx: CommonQueryMethods,
  rules: PayoutRules,
  charges: readonly LimitCharge[],
  field: string,
  at?: "now",
): Promise<void>;
export function checkDailyLimit(
  tx: CommonQueryMethods,
  rules: PayoutRules,
  charges: readonly LimitCharge[],
  field: "",
  at: "commit",
): FragmentSqlToken;
export function checkDailyLimit(
  tx: CommonQueryMethods,
  rules: PayoutRules,
  charges: readonly LimitCharge[],
  field: string,
  at: "now" | "commit" = "now",
): Promise<void> | FragmentSqlToken {
  const sums = sumCharges(charges);
  if (at === "commit") {
    const routes = [...new Set(sums.map((c) => c.route))];
    // One text expression, however many routes: each set_config answers its value.
    const sets = routes.map((r) => limitAtCommit(r, rules.limits[r].maxPerDay));
    return sql.fragment`${sql.join(sets, sql.fragment` || `)}`;
  }
  return checkNow(tx, rules, sums, field);
}

/** The charges summed per (route, asset), in a fixed order (so row locks never deadlock). */
function sumCharges(charges: readonly LimitCharge[]): LimitCharge[] {
  const sums = new Map<string, LimitCharge>();
  for (const c of charges) {
    const key = `${c.route}:${c.asset}`;
    const sum = sums.get(key);
    sums.set(key, { route: c.route, asset: c.asset, amount: (sum?.amount ?? 0n) + c.amount });
  }
  return [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, c]) => c);
}

async function checkNow(
  tx: CommonQueryMethods,
  rules: PayoutRules,
  sums: readonly LimitCharge[],
  field: string,
): Promise<void> {
  for (const { route, asset, amount } of sums) {
    // A no-op upsert: creates the day's row when missing and locks it either way.
    const used = await tx.oneFirst(sql.type(Used)`
      INSERT INTO daily_usage (route, asset, day, used) VALUES (${route}, ${asset}, ${TODAY}, 0)
      ON CONFLICT (route, asset, day) DO UPDATE SET used = daily_usage.used
      RETURNING used`);
    if (used + amount > rules.limits[route].maxPerDay) throw limitExceeded(route, asset, field);
  }
}

/**
 * An expression that makes the transaction's commit check `route`'s daily limit of
 * `maxPerDay`: it sets the transaction-local tronpay.daily_max_<route> that migration 014's
 * commit trigger reads. Each payout is counted on its (route, asset, day) counter row when its
 * transaction commits, and that commit fails with payout.limit_exceeded (SQLSTATE TP001, read
 * by appErrorOf in shared/errors.ts) when the counter, with it, is above the limit. Creates
 * queue on the counter row only while they commit, each after the counts of those before it:
 * exact under concurrency, and the row is not held through the create's other statements.
 */
function limitAtCommit(route: Route, maxPerDay: bigint): FragmentSqlToken {
  return sql.fragment`set_config(${`tronpay.daily_max_${route.toLowerCase()}`}, ${maxPerDay.toString()}, true)`;
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
