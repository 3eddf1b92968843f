import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Asset, OperationKind } from "../../gen/tronpay/v1/common_pb.js";
import {
  type Payout,
  type PayoutAttempt,
  PayoutAttemptSchema,
  PayoutAttemptState,
  type PayoutBatch,
  PayoutBatchSchema,
  PayoutBatchState,
  type PayoutPriority,
  PayoutRoute,
  PayoutSchema,
  PayoutState,
} from "../../gen/tronpay/v1/payout_pb.js";
import { formatAmount } from "../../shared/money.js";
import type { BatchRow } from "./batch-repo.js";
import type { PayoutAttemptRow, PayoutRow } from "./repo.js";
import type { PayoutInput } from "./validate.js";

/** Proto enum ↔ domain names. protobuf-es enums map names to numbers both ways. */
export const assetOf = (a: Asset): PayoutInput["asset"] =>
  a === Asset.TRX ? "TRX" : a === Asset.USDT ? "USDT" : "";
export const routeOf = (r: PayoutRoute): PayoutInput["route"] =>
  r === PayoutRoute.V0
    ? "V0"
    : r === PayoutRoute.KYC
      ? "KYC"
      : r === PayoutRoute.DIRECT
        ? "DIRECT"
        : "";
export const routeName = (r: PayoutRoute) => routeOf(r);
export const stateName = (s: PayoutState) => PayoutState[s];

/** The proto Payout for a stored payout and its attempts. */
export function payoutToProto(row: PayoutRow, attempts: readonly PayoutAttemptRow[]): Payout {
  const net =
    row.fee_sun === null
      ? undefined
      : {
          bandwidthUsed: row.bandwidth_used ?? 0n,
          energyUsed: row.energy_used ?? 0n,
          trxBurned: formatAmount(row.fee_sun),
          activatedRecipient: row.activated_recipient ?? false,
        };
  return create(PayoutSchema, {
    id: row.id,
    state: PayoutState[row.state as keyof typeof PayoutState],
    route: PayoutRoute[row.route],
    priority: row.priority as PayoutPriority,
    walletId: row.wallet_id,
    sourceAddress: row.owner_address,
    recipientAddress: row.counterparty_address,
    payeeTag: row.payee_tag ?? "",
    amount: { asset: Asset[row.asset], value: formatAmount(row.amount) },
    memo: row.memo === "" ? undefined : row.memo,
    clientReference: row.client_reference,
    metadata: row.metadata,
    kycHash: row.kyc_hash ?? "",
    createdBy: row.created_by,
    approvedBy: row.approved_by ?? "",
    holdReason: row.hold_reason ?? "",
    failureReason: row.failure_reason ?? "",
    failureDetail: row.failure_detail ?? "",
    cancelReason: row.cancel_reason ?? "",
    attempts: attempts.filter((a) => a.operation_id === row.id).map(attemptToProto),
    serviceFee: { asset: Asset.TRX, value: formatAmount(row.service_fee) },
    networkCost: net,
    batchId: row.batch_id ?? "",
    batchItemReference: row.batch_item_reference,
    createdAt: timestampFromMs(row.created_at),
    updatedAt: timestampFromMs(row.updated_at),
    confirmedAt: row.confirmed_at === null ? undefined : timestampFromMs(row.confirmed_at),
    kind: OperationKind[row.kind],
  });
}

function attemptToProto(a: PayoutAttemptRow): PayoutAttempt {
  return create(PayoutAttemptSchema, {
    txId: a.tx_id,
    state: PayoutAttemptState[a.state as keyof typeof PayoutAttemptState],
    expiresAt: timestampFromMs(a.expiration),
    broadcastCount: a.broadcast_count,
    blockNumber: a.block_number ?? 0n,
    feeLimitSun: a.fee_limit,
    lastBroadcastError: a.last_broadcast_error ?? "",
    signedAt: timestampFromMs(a.signed_at),
  });
}

/** The proto PayoutBatch for a stored batch and its per-state counts. */
export function batchToProto(
  row: BatchRow,
  counts: readonly { state: string; asset: string; n: number; total: bigint }[],
): PayoutBatch {
  const perState = new Map<string, number>();
  const perAsset = new Map<string, bigint>();
  for (const c of counts) {
    perState.set(c.state, (perState.get(c.state) ?? 0) + c.n);
    perAsset.set(c.asset, (perAsset.get(c.asset) ?? 0n) + c.total);
  }
  return create(PayoutBatchSchema, {
    id: row.id,
    state: PayoutBatchState[row.state as keyof typeof PayoutBatchState],
    itemCount: row.item_count,
    stateCounts: [...perState.entries()].map(([state, count]) => ({
      state: PayoutState[state as keyof typeof PayoutState],
      count,
    })),
    totals: [...perAsset.entries()].map(([asset, total]) => ({
      asset: Asset[asset as keyof typeof Asset],
      value: formatAmount(total),
    })),
    createdBy: row.principal,
    createdAt: timestampFromMs(row.created_at),
    updatedAt: timestampFromMs(row.completed_at ?? row.created_at),
  });
}
