import type { CommonQueryMethods } from "slonik";
import { usedToday } from "./repo.js";
import type { PayoutRules } from "./validate.js";

/** One route's limit for one asset, in base units. */
export interface RouteLimitView {
  route: "V0" | "KYC" | "DIRECT";
  asset: "TRX" | "USDT";
  perPayoutMax: bigint;
  dailyMax: bigint;
  usedToday: bigint;
  /** dailyMax − usedToday, never below 0. */
  remainingToday: bigint;
  fourEyesThreshold: bigint;
}

const ROUTES = ["V0", "KYC", "DIRECT"] as const;
const ASSETS = ["TRX", "USDT"] as const;
const DAY_MS = 86_400_000;

/** Every route's limits per asset with today's (UTC) use, and when today's counters reset. */
export async function routeLimits(
  db: CommonQueryMethods,
  rules: PayoutRules,
  now: number,
): Promise<{ limits: RouteLimitView[]; resetsAt: number }> {
  const limits: RouteLimitView[] = [];
  for (const route of ROUTES) {
    for (const asset of ASSETS) {
      const { maxPerPayout, maxPerDay } = rules.limits[route];
      const used = await usedToday(db, route, asset);
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
