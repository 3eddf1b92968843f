import { type CommonQueryMethods, type DatabasePool, sql } from "slonik";
import { z } from "zod";
import { appendAudit } from "../audit.js";
import { emitEvent } from "../outbox.js";
import { closeBatchIfDone } from "../payouts/batch-repo.js";
import {
  type AttemptState,
  assertAttemptTransition,
  assertTransition,
  type OperationState,
  TERMINAL_STATES,
} from "./state.js";

/** An operation row as the engine sees it. */
export const OperationRow = z.object({
  id: z.string(),
  kind: z.string(),
  state: z.string() as unknown as z.ZodType<OperationState>,
  asset: z.enum(["TRX", "USDT"]),
  amount: z.bigint(),
  wallet_id: z.string(),
  owner_address: z.string(),
  counterparty_address: z.string(),
  resource: z.string().nullable(),
  lock_period_blocks: z.bigint(),
  memo: z.string(),
  priority: z.number(),
  hold_reason: z.string().nullable(),
  next_run_at: z.number(),
});
export type OperationRow = z.infer<typeof OperationRow>;

export const AttemptRow = z.object({
  id: z.bigint(),
  operation_id: z.string(),
  attempt_no: z.number(),
  tx_id: z.string(),
  raw_data: z.instanceof(Buffer),
  signature: z.instanceof(Buffer),
  expiration: z.number(),
  fee_limit: z.bigint(),
  state: z.string() as unknown as z.ZodType<AttemptState>,
  broadcast_count: z.number(),
  last_broadcast_at: z.number().nullable(),
});
export type AttemptRow = z.infer<typeof AttemptRow>;

const OP_COLUMNS = sql.fragment`id, kind, state, asset, amount, wallet_id, owner_address, counterparty_address, resource,
  lock_period_blocks, memo, priority, hold_reason, next_run_at`;
const ATTEMPT_COLUMNS = sql.fragment`id, operation_id, attempt_no, tx_id, raw_data, signature, expiration, fee_limit,
  state, broadcast_count, last_broadcast_at`;

/**
 * Claims up to `limit` due operations for this process: they are locked with SKIP LOCKED (so
 * replicas never claim the same row) and leased by moving next_run_at ahead; a process that
 * dies simply lets the lease run out.
 */
export async function claimDue(
  pool: DatabasePool,
  limit: number,
  leaseMs: number,
  /** False: only operations already signed (SIGNED, BROADCAST), none that would sign. */
  signing = true,
): Promise<OperationRow[]> {
  if (limit <= 0) return [];
  const rows = await pool.any(sql.type(OperationRow)`
    UPDATE operations SET next_run_at = now() + ${leaseMs} * interval '1 millisecond'
    WHERE id IN (
      SELECT id FROM operations
      WHERE state IN ('QUEUED', 'HELD', 'SIGNED', 'BROADCAST') AND next_run_at <= now()
        AND (${signing}::boolean OR state IN ('SIGNED', 'BROADCAST'))
      ORDER BY priority DESC, next_run_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING ${OP_COLUMNS}`);
  return [...rows];
}

/** The live attempt of an operation (SIGNED/BROADCAST/INCLUDED), if any. */
export async function liveAttempt(
  db: CommonQueryMethods,
  operationId: string,
): Promise<AttemptRow | null> {
  return db.maybeOne(sql.type(AttemptRow)`
    SELECT ${ATTEMPT_COLUMNS} FROM attempts
    WHERE operation_id = ${operationId} AND state IN ('SIGNED', 'BROADCAST', 'INCLUDED')`);
}

/** The latest attempt of an operation, live or not. */
export async function latestAttempt(
  db: CommonQueryMethods,
  operationId: string,
): Promise<AttemptRow | null> {
  return db.maybeOne(sql.type(AttemptRow)`
    SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE operation_id = ${operationId} ORDER BY attempt_no DESC LIMIT 1`);
}

/** Raised when an operation is no longer in the state a step expected (another actor won). */
export class StateChanged extends Error {}

/** What a transition records besides the new state. */
export interface TransitionPatch {
  holdReason?: string | null;
  failureReason?: string | null;
  failureDetail?: string | null;
  nextRunInMs?: number;
  confirmed?: boolean;
  cost?: {
    feeSun: bigint;
    energyUsed: bigint;
    bandwidthUsed: bigint;
    activatedRecipient?: boolean;
  };
}

/**
 * Moves an operation from → to inside `tx`, with an audit row and an outbox event. Throws
 * StateChanged when the row is not in `from` any more.
 */
export async function transition(
  tx: CommonQueryMethods,
  op: { id: string; kind: string },
  from: OperationState,
  to: OperationState,
  patch: TransitionPatch,
  actor: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  assertTransition(from, to);
  const result = await tx.query(sql.unsafe`
    UPDATE operations SET
      state = ${to},
      updated_at = now(),
      next_run_at = now() + ${patch.nextRunInMs ?? 0} * interval '1 millisecond',
      hold_reason = ${patch.holdReason === undefined ? sql.fragment`hold_reason` : patch.holdReason},
      failure_reason = ${patch.failureReason === undefined ? sql.fragment`failure_reason` : patch.failureReason},
      failure_detail = ${patch.failureDetail === undefined ? sql.fragment`failure_detail` : patch.failureDetail},
      confirmed_at = ${patch.confirmed ? sql.fragment`now()` : sql.fragment`confirmed_at`},
      fee_sun = ${patch.cost ? patch.cost.feeSun : sql.fragment`fee_sun`},
      energy_used = ${patch.cost ? patch.cost.energyUsed : sql.fragment`energy_used`},
      bandwidth_used = ${patch.cost ? patch.cost.bandwidthUsed : sql.fragment`bandwidth_used`},
      activated_recipient = ${patch.cost?.activatedRecipient ?? sql.fragment`activated_recipient`}
    WHERE id = ${op.id} AND state = ${from}`);
  if (result.rowCount !== 1) throw new StateChanged(`operation ${op.id} is no longer ${from}`);
  // A USDT transfer is a payout too (same id): its events are payout events.
  const prefix = op.kind === "PAYOUT" || op.kind === "USDT_TRANSFER" ? "payout" : "operation";
  const action = `${prefix}.${to.toLowerCase()}`;
  await appendAudit(tx, { actor, action, subject: op.id, details: { from, to, ...details } });
  await emitEvent(tx, {
    type: action,
    subjectId: op.id,
    payload: { id: op.id, kind: op.kind, from, to, ...details },
  });
  if (op.kind === "PAYOUT" && TERMINAL_STATES.includes(to)) await closeBatchIfDone(tx, op.id);
}

/** Pushes an operation's next run out without changing its state. */
export async function reschedule(db: CommonQueryMethods, id: string, inMs: number): Promise<void> {
  await db.query(
    sql.unsafe`UPDATE operations SET next_run_at = now() + ${inMs} * interval '1 millisecond' WHERE id = ${id}`,
  );
}

/** Stores a signed attempt (before it is ever broadcast). */
export async function insertAttempt(
  tx: CommonQueryMethods,
  a: {
    operationId: string;
    attemptNo: number;
    txId: string;
    rawData: Uint8Array;
    signature: Uint8Array;
    expiration: number;
    feeLimit: bigint;
  },
): Promise<void> {
  await tx.query(sql.unsafe`
    INSERT INTO attempts (operation_id, attempt_no, tx_id, raw_data, signature, expiration, fee_limit, state)
    VALUES (${a.operationId}, ${a.attemptNo}, ${a.txId}, ${sql.binary(Buffer.from(a.rawData))},
            ${sql.binary(Buffer.from(a.signature))}, 'epoch'::timestamptz + ${a.expiration} * interval '1 millisecond',
            ${a.feeLimit}, 'SIGNED')`);
}

/** Moves an attempt between states (checked against the table), recording receipt facts. */
export async function setAttemptState(
  tx: CommonQueryMethods,
  attempt: AttemptRow,
  to: AttemptState,
  facts: { blockNumber?: bigint; receiptResult?: string } = {},
): Promise<void> {
  assertAttemptTransition(attempt.state, to);
  const result = await tx.query(sql.unsafe`
    UPDATE attempts SET state = ${to},
      block_number = ${facts.blockNumber ?? sql.fragment`block_number`},
      receipt_result = ${facts.receiptResult ?? sql.fragment`receipt_result`}
    WHERE id = ${attempt.id} AND state = ${attempt.state}`);
  if (result.rowCount !== 1)
    throw new StateChanged(`attempt ${attempt.tx_id} is no longer ${attempt.state}`);
}

/** Records one broadcast of an attempt's bytes and its outcome. */
export async function recordBroadcast(
  db: CommonQueryMethods,
  attemptId: bigint,
  error: string | null,
): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE attempts SET broadcast_count = broadcast_count + 1, last_broadcast_at = now(), last_broadcast_error = ${error}
    WHERE id = ${attemptId}`);
}
