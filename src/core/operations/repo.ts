import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import {
  Asset,
  type Operation,
  OperationSchema,
  OperationState,
} from "../../gen/tronpay/v1/common_pb.js";
import { formatAmount } from "../../shared/money.js";
import { appendAudit } from "../kernel/audit.js";
import { newId } from "../kernel/ids.js";
import { emitEvent } from "../kernel/outbox.js";
import { KINDS, type OperationKind } from "./kinds.js";
import { OperationRecord } from "./row.js";

/** A validated operation, ready to store. */
export interface NewOperation {
  /** Payouts are stored by payouts/repo.ts with their payout row. */
  kind: Exclude<OperationKind, "PAYOUT">;
  asset: "TRX" | "USDT";
  amount: bigint;
  walletId: string;
  ownerAddress: string;
  counterpartyAddress: string;
  resource: "BANDWIDTH" | "ENERGY" | null;
  lockPeriodBlocks: bigint;
  principal: string;
}

export const OperationView = OperationRecord.pick({
  id: true,
  kind: true,
  state: true,
  asset: true,
  amount: true,
  wallet_id: true,
  owner_address: true,
  counterparty_address: true,
  resource: true,
  hold_reason: true,
  failure_reason: true,
  failure_detail: true,
  fee_sun: true,
  energy_used: true,
  bandwidth_used: true,
  activated_recipient: true,
  created_at: true,
  updated_at: true,
  confirmed_at: true,
}).extend({
  tx_ids: z.array(z.string()),
  block_number: z.bigint().nullable(),
});
export type OperationView = z.infer<typeof OperationView>;

const SELECT = sql.fragment`
  SELECT o.id, o.kind, o.state, o.asset, o.amount, o.wallet_id, o.owner_address, o.counterparty_address,
         o.resource, o.hold_reason, o.failure_reason, o.failure_detail, o.fee_sun, o.energy_used,
         o.bandwidth_used, o.activated_recipient, o.created_at, o.updated_at,
         COALESCE((SELECT array_agg(a.tx_id ORDER BY a.attempt_no) FROM attempts a WHERE a.operation_id = o.id),
                  '{}') AS tx_ids,
         (SELECT max(a.block_number) FROM attempts a WHERE a.operation_id = o.id) AS block_number,
         o.confirmed_at
  FROM operations o`;

/**
 * Stores a QUEUED operation for the engine with an audit row and an operation.created event,
 * inside the caller's (idempotent) transaction; returns it as stored.
 */
export async function insertOperation(
  tx: CommonQueryMethods,
  op: NewOperation,
): Promise<OperationView> {
  const id = newId("op");
  await tx.query(sql.unsafe`
    INSERT INTO operations (id, kind, state, asset, amount, wallet_id, owner_address, counterparty_address,
                            resource, lock_period_blocks, created_by)
    VALUES (${id}, ${op.kind}, 'QUEUED', ${op.asset}, ${op.amount}, ${op.walletId}, ${op.ownerAddress},
            ${op.counterpartyAddress}, ${op.resource}, ${op.lockPeriodBlocks}, ${op.principal})`);
  const details = {
    kind: op.kind,
    walletId: op.walletId,
    amount: op.amount.toString(),
    counterparty: op.counterpartyAddress,
    resource: op.resource,
    lockPeriodBlocks: op.lockPeriodBlocks.toString(),
  };
  await appendAudit(tx, { actor: op.principal, action: "operation.created", subject: id, details });
  await emitEvent(tx, "operation.created", { id, ...details, amount: formatAmount(op.amount) });
  return (await findOperation(tx, id)) as OperationView;
}

/** One operation with its txIDs, or null. */
export async function findOperation(
  db: CommonQueryMethods,
  id: string,
): Promise<OperationView | null> {
  return db.maybeOne(sql.type(OperationView)`${SELECT} WHERE o.id = ${id}`);
}

/** A wallet's operations created before `beforeMs`, newest first. */
export async function walletOperations(
  db: CommonQueryMethods,
  walletId: string,
  beforeMs: number | undefined,
  limit: number,
): Promise<OperationView[]> {
  const rows = await db.any(sql.type(OperationView)`${SELECT}
    WHERE o.wallet_id = ${walletId}
      AND (${beforeMs ?? null}::bigint IS NULL OR o.created_at < 'epoch'::timestamptz + ${beforeMs ?? 0} * interval '1 millisecond')
    ORDER BY o.created_at DESC LIMIT ${limit}`);
  return [...rows];
}

/** The proto Operation of a stored one. */
export function operationToProto(row: OperationView): Operation {
  const spec = KINDS[row.kind];
  return create(OperationSchema, {
    id: row.id,
    kind: spec.proto,
    state: OperationState[row.state],
    walletId: row.wallet_id,
    ownerAddress: row.owner_address,
    amount: !spec.amountOnChain
      ? undefined
      : { asset: Asset[row.asset], value: formatAmount(row.amount) },
    txIds: row.tx_ids,
    networkCost:
      row.fee_sun === null
        ? undefined
        : {
            bandwidthUsed: row.bandwidth_used ?? 0n,
            energyUsed: row.energy_used ?? 0n,
            trxBurned: formatAmount(row.fee_sun),
            activatedRecipient: row.activated_recipient ?? false,
          },
    holdReason: row.hold_reason ?? "",
    failureReason: row.failure_reason ?? "",
    failureDetail: row.failure_detail ?? "",
    createdAt: timestampFromMs(row.created_at),
    updatedAt: timestampFromMs(row.updated_at),
  });
}

/**
 * An operation in an answer, as it is now. Idempotent writes store their first answer, and a
 * replay would otherwise show the state the operation had then (QUEUED) however far it got.
 */
export async function currentOperation(
  db: CommonQueryMethods,
  op: Operation | undefined,
): Promise<Operation | undefined> {
  if (!op) return op;
  const row = await findOperation(db, op.id);
  return row ? operationToProto(row) : op;
}

/** A write's `reply` hook (idempotent-writes.ts): its answer with the operation as it is now. */
export function withCurrentOperation(db: CommonQueryMethods) {
  return async <A extends { operation?: Operation }>(answer: A): Promise<A> => {
    answer.operation = await currentOperation(db, answer.operation);
    return answer;
  };
}
