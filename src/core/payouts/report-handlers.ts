import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import { Asset } from "../../gen/tronpay/v1/common_pb.js";
import {
  ExportFormat,
  PayoutRoute,
  type PayoutService,
  PayoutState,
  StatsGranularity,
} from "../../gen/tronpay/v1/payout_pb.js";
import { normalizeAddress } from "../../shared/address.js";
import { AppError } from "../../shared/errors.js";
import { formatAmount, parsePositiveAmount } from "../../shared/money.js";
import type { Chain } from "../chain/types.js";
import { livePayee } from "../payees/flows.js";
import { assetOf } from "./convert.js";
import { exportPayouts } from "./export.js";
import { routeLimits } from "./limits.js";
import { quoteFee } from "./quote.js";
import { type Granularity, payoutStats } from "./stats.js";
import type { PayoutRules } from "./validate.js";
import { walletAddress } from "./wallet.js";

export interface ReportPayoutDeps {
  pool: DatabasePool;
  chain: Chain;
  rules: PayoutRules;
  clock: () => number;
  /** fee_limit of USDT transfers (sun), as the engine sets it. */
  feeLimitSun: bigint;
}

type Impl = ServiceImpl<typeof PayoutService>;

function range(r: { startTime?: unknown; endTime?: unknown } | undefined, field: string) {
  const t = r as {
    startTime?: Parameters<typeof timestampMs>[0];
    endTime?: Parameters<typeof timestampMs>[0];
  };
  if (!t?.startTime || !t.endTime)
    throw new AppError("request.invalid", `${field} needs both start_time and end_time`, {
      metadata: { field },
    });
  return { from: timestampMs(t.startTime), to: timestampMs(t.endTime) };
}

/** Stats, limits, fee quotes and export: read-only views of payouts, thin around their modules. */
export function createPayoutReportHandlers(deps: ReportPayoutDeps): Partial<Impl> {
  return {
    async getPayoutStats(req) {
      const granularity = StatsGranularity[req.granularity]?.toLowerCase() as
        | Granularity
        | undefined;
      if (!granularity || req.granularity === StatsGranularity.UNSPECIFIED)
        throw new AppError("request.invalid", "granularity is required", {
          metadata: { field: "granularity" },
        });
      const buckets = await payoutStats(deps.pool, {
        granularity,
        ...range(req.range, "range"),
        routes: req.routes.map((r) => PayoutRoute[r]),
        walletId: req.walletId,
      });
      return {
        buckets: buckets.map((b) => ({
          periodStart: timestampFromMs(b.periodStart),
          periodEnd: timestampFromMs(b.periodEnd),
          route: PayoutRoute[b.route as keyof typeof PayoutRoute],
          createdCount: b.createdCount,
          confirmedCount: b.confirmedCount,
          failedCount: b.failedCount,
          confirmedTotals: [...b.confirmedTotals].map(([asset, total]) => ({
            asset: Asset[asset as keyof typeof Asset],
            value: formatAmount(total),
          })),
          trxBurned: formatAmount(b.feeSun),
          energyUsed: b.energyUsed,
          bandwidthUsed: b.bandwidthUsed,
          serviceFees:
            b.serviceFeeSun > 0n
              ? [{ asset: Asset.TRX, value: formatAmount(b.serviceFeeSun) }]
              : [],
        })),
      };
    },
    async getLimits() {
      const { limits, resetsAt } = await routeLimits(deps.pool, deps.rules, deps.clock());
      return {
        limits: limits.map((l) => ({
          route: PayoutRoute[l.route],
          asset: Asset[l.asset],
          perPayoutMax: formatAmount(l.perPayoutMax),
          dailyMax: formatAmount(l.dailyMax),
          usedToday: formatAmount(l.usedToday),
          remainingToday: formatAmount(l.remainingToday),
          fourEyesThreshold: formatAmount(l.fourEyesThreshold),
        })),
        resetsAt: timestampFromMs(resetsAt),
      };
    },
    async quoteFee(req) {
      const asset = req.amount ? assetOf(req.amount.asset) : "";
      if (asset === "")
        throw new AppError("money.asset_unspecified", "amount.asset is required", {
          metadata: { field: "amount.asset" },
        });
      const recipient =
        req.recipient.case === "payeeTag"
          ? (await livePayee(deps.pool, req.recipient.value)).address
          : normalizeAddress(req.recipient.value ?? "", "recipient_address");
      const q = await quoteFee(deps.chain, {
        owner: await walletAddress(deps.pool, req.walletId),
        recipient,
        asset,
        amount: parsePositiveAmount(req.amount?.value ?? "", "amount.value"),
        memo: req.memo ?? "",
        feeLimitSun: deps.feeLimitSun,
      });
      return {
        bandwidth: q.bandwidth,
        energy: q.energy,
        trxToBurn: formatAmount(q.trxToBurnSun),
        recipientNewToUsdt: q.recipientNewToUsdt,
        activationNeeded: q.activationNeeded,
        feeLimitSun: q.feeLimitSun,
        quotedAt: timestampFromMs(deps.clock()),
      };
    },
    async *exportPayouts(req) {
      if (req.format === ExportFormat.UNSPECIFIED)
        throw new AppError("request.invalid", "format is required", {
          metadata: { field: "format" },
        });
      yield* exportPayouts(deps.pool, {
        format: req.format === ExportFormat.CSV ? "CSV" : "JSONL",
        ...range(req.created, "created"),
        states: req.states.map((s) => PayoutState[s]),
        routes: req.routes.map((r) => PayoutRoute[r]),
      });
    },
  };
}
