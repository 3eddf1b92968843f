import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { CommonQueryMethods } from "slonik";
import { Asset, TransferDirection } from "../../gen/tronpay/v1/common_pb.js";
import {
  type WalletTransaction,
  WalletTransactionKind,
  WalletTransactionSchema,
} from "../../gen/tronpay/v1/wallet_pb.js";
import { formatAmount } from "../../shared/money.js";
import { listTransfers, type TransferRow } from "../incoming/repo.js";
import { invalidPageToken, pageSizeOf } from "../kernel/page.js";
import { KINDS } from "../operations/kinds.js";
import { type OperationView, walletOperations } from "../operations/repo.js";
import type { WalletRow } from "./repo.js";

/** A wallet transaction list request in domain terms. */
export interface WalletTxQuery {
  kinds: readonly WalletTransactionKind[];
  direction: TransferDirection;
  startMs?: number;
  endMs?: number;
  pageSize: number;
  /** ms: only items strictly older than this (the previous page's last time). */
  pageToken: string;
}

type Item = { time: number; tx: WalletTransaction };

function costOf(op: OperationView | undefined) {
  if (!op || op.fee_sun === null) return undefined;
  return {
    bandwidthUsed: op.bandwidth_used ?? 0n,
    energyUsed: op.energy_used ?? 0n,
    trxBurned: formatAmount(op.fee_sun),
    activatedRecipient: op.activated_recipient ?? false,
  };
}

function fromTransfer(t: TransferRow, wallet: WalletRow, op: OperationView | undefined): Item {
  const incoming = t.to_address === wallet.address && t.from_address !== wallet.address;
  const usdt = t.asset === "USDT";
  const tx = create(WalletTransactionSchema, {
    txId: t.tx_id,
    kind: usdt ? WalletTransactionKind.USDT_TRANSFER : WalletTransactionKind.TRX_TRANSFER,
    direction: incoming ? TransferDirection.INCOMING : TransferDirection.OUTGOING,
    counterpartyAddress: incoming ? t.from_address : t.to_address,
    amount: { asset: usdt ? Asset.USDT : Asset.TRX, value: formatAmount(BigInt(t.amount)) },
    blockNumber: t.block_number,
    blockTime: timestampFromMs(t.block_time),
    result: t.result,
    networkCost: incoming ? undefined : costOf(op),
    operationId: op?.id ?? "",
  });
  return { time: t.block_time, tx };
}

function fromOperation(op: OperationView): Item {
  const spec = KINDS[op.kind];
  const transfer = spec.pays;
  const kind = spec.walletTransaction(op.asset);
  const time = op.confirmed_at ?? op.created_at;
  const tx = create(WalletTransactionSchema, {
    txId: op.tx_ids.at(-1) ?? "",
    kind,
    direction: transfer ? TransferDirection.OUTGOING : TransferDirection.UNSPECIFIED,
    counterpartyAddress: op.counterparty_address,
    amount: op.amount > 0n ? { asset: Asset[op.asset], value: formatAmount(op.amount) } : undefined,
    blockNumber: op.block_number ?? 0n,
    blockTime: op.confirmed_at === null ? undefined : timestampFromMs(op.confirmed_at),
    result: op.state === "CONFIRMED" ? "SUCCESS" : (op.failure_reason ?? ""),
    networkCost: costOf(op),
    operationId: op.id,
  });
  return { time, tx };
}

/**
 * A wallet's transfers found on chain by the follower, merged with its operations (an
 * operation whose transaction is among the transfers adds its id and cost to that transfer
 * instead of appearing twice), newest first.
 */
export async function walletTransactions(
  db: CommonQueryMethods,
  wallet: WalletRow,
  q: WalletTxQuery,
): Promise<{ transactions: WalletTransaction[]; nextPageToken: string }> {
  if (q.pageToken !== "" && !/^[0-9]{1,15}$/.test(q.pageToken)) {
    throw invalidPageToken("page_token is not one this server gave");
  }
  const before = q.pageToken === "" ? undefined : Number(q.pageToken);
  const end = before === undefined ? q.endMs : Math.min(before, q.endMs ?? before);
  const limit = pageSizeOf(q.pageSize);
  const [transfers, ops] = await Promise.all([
    listTransfers(db, {
      assets: ["TRX", "USDT"],
      addresses: [wallet.address],
      direction: "ANY",
      startMs: q.startMs,
      endMs: end,
      limit: limit + 1,
    }),
    walletOperations(db, wallet.id, end, limit + 1),
  ]);
  const byTx = new Map(ops.flatMap((op) => op.tx_ids.map((id) => [id, op] as const)));
  const covered = new Set(transfers.map((t) => t.tx_id));
  const items = [
    ...transfers.map((t) => fromTransfer(t, wallet, byTx.get(t.tx_id))),
    ...ops.filter((op) => !op.tx_ids.some((id) => covered.has(id))).map(fromOperation),
  ]
    .filter(
      (i) =>
        (q.startMs === undefined || i.time >= q.startMs) && (end === undefined || i.time < end),
    )
    .filter((i) => q.kinds.length === 0 || q.kinds.includes(i.tx.kind))
    .filter((i) => q.direction === TransferDirection.UNSPECIFIED || i.tx.direction === q.direction)
    .sort((a, b) => b.time - a.time);
  const page = items.slice(0, limit);
  const last = page.at(-1);
  const more = items.length > limit || transfers.length > limit || ops.length > limit;
  return {
    transactions: page.map((i) => i.tx),
    nextPageToken: more && last ? String(last.time) : "",
  };
}
