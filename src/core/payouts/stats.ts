import type { CommonQueryMethods } from "slonik";
import { AppError } from "../../shared/errors.js";
import { periodCount, type StatsRow, statsRows } from "./stats-repo.js";

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
  if ((await periodCount(db, q)) > MAX_PERIODS)
    throw new AppError("request.invalid", `the range covers more than ${MAX_PERIODS} periods`, {
      metadata: { field: "range" },
    });
  return fold(await statsRows(db, q));
}

function fold(rows: readonly StatsRow[]): StatsBucket[] {
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
