import { type CommonQueryMethods, type DatabasePool, sql } from "slonik";
import { z } from "zod";
import { formatAmount } from "../../shared/money.js";
import type { TxInfo } from "../chain/types.js";
import { stateEventType } from "../events/catalog.js";
import type { StateChange } from "../events/fields.js";
import { appendAudit } from "../kernel/audit.js";
import { emitEvent } from "../kernel/outbox.js";
import { eventPrefix, type OperationKind } from "../operations/kinds.js";
import { OperationRecord } from "../operations/row.js";
import { closeBatchIfDone, reopenBatchOf } from "../payouts/batch-repo.js";
import {
  type AttemptState,
  assertAttemptTransition,
  assertTransition,
  type Mover,
  type OperationState,
  TERMINAL_STATES,
} from "./state.js";

/** An operation row as the engine sees it. */
export const OperationRow = OperationRecord.pick({
  id: true,
  kind: true,
  state: true,
  asset: true,
  amount: true,
  wallet_id: true,
  owner_address: true,
  counterparty_address: true,
  resource: true,
  lock_period_blocks: true,
  memo: true,
  priority: true,
  hold_reason: true,
  next_run_at: true,
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
export const ATTEMPT_COLUMNS = sql.fragment`id, operation_id, attempt_no, tx_id, raw_data, signature, expiration, fee_limit,
  state, broadcast_count, last_broadcast_at`;

/**
 * Claims up to `limit` due operations for this process: they are locked with SKIP LOCKED (so
 * replicas never claim the same row) and leased by moving next_run_at ahead; a process that
 * dies simply lets the lease run out. Within a priority, due follow work (SIGNED, BROADCAST)
 * is claimed before due signing work (QUEUED, HELD).
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
      -- Following what is already sent comes before signing more: it is cheap (no signer, no
      -- node request on the happy path) and it is what confirms payouts, so a long queue of
      -- new payouts never holds confirmations back until all of it is sent.
      ORDER BY priority DESC, (state IN ('SIGNED', 'BROADCAST')) DESC, next_run_at
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

const FollowFacts = AttemptRow.extend({
  r_block: z.bigint().nullable(),
  r_time: z.number().nullable(),
  r_result: z.string().nullable(),
  r_fee: z.bigint().nullable(),
  r_energy: z.bigint().nullable(),
  r_energy_fee: z.bigint().nullable(),
  r_net: z.bigint().nullable(),
  r_net_fee: z.bigint().nullable(),
  r_message: z.string().nullable(),
  cursor_time: z.number().nullable(),
  cursor_age_ms: z.number().nullable(),
});

/**
 * What following an operation needs, in one query: its live attempt, the receipt the follower
 * recorded for it (if any), and how far the follower's cursor is (block time, and how long
 * since it last moved).
 */
export async function followFacts(
  db: CommonQueryMethods,
  operationId: string,
): Promise<{
  attempt: AttemptRow | null;
  receipt: TxInfo | null;
  cursorTime: number | null;
  cursorAgeMs: number;
}> {
  const row = await db.maybeOne(sql.type(FollowFacts)`
    SELECT a.id, a.operation_id, a.attempt_no, a.tx_id, a.raw_data, a.signature, a.expiration,
           a.fee_limit, a.state, a.broadcast_count, a.last_broadcast_at,
           r.block_number AS r_block, r.block_time AS r_time, r.result AS r_result, r.fee_sun AS r_fee,
           r.energy_used AS r_energy, r.energy_fee_sun AS r_energy_fee, r.net_used AS r_net,
           r.net_fee_sun AS r_net_fee, r.message AS r_message,
           c.block_time AS cursor_time,
           (extract(epoch FROM now() - c.updated_at) * 1000)::float8 AS cursor_age_ms
    FROM attempts a
    LEFT JOIN attempt_receipts r ON r.tx_id = a.tx_id
    LEFT JOIN follower_cursor c ON c.name = 'solidified_blocks'
    WHERE a.operation_id = ${operationId} AND a.state IN ('SIGNED', 'BROADCAST', 'INCLUDED')`);
  if (!row) return { attempt: null, receipt: null, cursorTime: null, cursorAgeMs: 0 };
  const attempt = AttemptRow.parse(row);
  const receipt: TxInfo | null =
    row.r_block === null
      ? null
      : {
          txId: row.tx_id,
          blockNumber: row.r_block,
          blockTime: row.r_time ?? 0,
          result: row.r_result ?? "SUCCESS",
          feeSun: row.r_fee ?? 0n,
          energyUsed: row.r_energy ?? 0n,
          energyFeeSun: row.r_energy_fee ?? 0n,
          netUsed: row.r_net ?? 0n,
          netFeeSun: row.r_net_fee ?? 0n,
          ...(row.r_message ? { message: row.r_message } : {}),
        };
  return {
    attempt,
    receipt,
    cursorTime: row.cursor_time,
    cursorAgeMs: row.cursor_age_ms ?? Number.POSITIVE_INFINITY,
  };
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
 * What a transition's audit row and event say besides from and to (events/fields.ts documents
 * each); feeSun goes to the audit row only, the event shows patch.cost's fee as trxBurned.
 */
export type TransitionDetails = Omit<StateChange, "id" | "kind" | "from" | "to" | "trxBurned"> & {
  feeSun?: string;
};

/**
 * Moves an operation from → to inside `tx`, with an audit row and an outbox event; returns the
 * operation's age at the change (seconds since it was accepted). The move must be in the table
 * of `by` (engine/state.ts): payout.invalid_state otherwise. Throws StateChanged when the row is
 * not in `from` any more.
 */
export async function transition(
  tx: CommonQueryMethods,
  op: { id: string; kind: OperationKind },
  from: OperationState,
  to: OperationState,
  patch: TransitionPatch,
  actor: string,
  details: TransitionDetails = {},
  by: Mover = "engine",
): Promise<{ ageSeconds: number }> {
  assertTransition(from, to, by);
  const result = await tx.query(sql.type(Changed)`
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
    WHERE id = ${op.id} AND state = ${from}
    RETURNING extract(epoch FROM now() - created_at)::float8 AS age_s`);
  const changed = result.rows[0];
  if (result.rowCount !== 1 || !changed)
    throw new StateChanged(`operation ${op.id} is no longer ${from}`);
  // A kind that pays (a USDT transfer is a payout too, same id) has payout events.
  const type = stateEventType(eventPrefix(op.kind), to);
  await appendAudit(tx, { actor, action: type, subject: op.id, details: { from, to, ...details } });
  // The audit row keeps the fee in sun as it always has; receivers get TRX, as the API shows it.
  const { feeSun: _, ...shown } = details;
  const burned = patch.cost ? { trxBurned: formatAmount(patch.cost.feeSun) } : {};
  await emitEvent(tx, type, { id: op.id, kind: op.kind, from, to, ...shown, ...burned });
  if (op.kind === "PAYOUT" && TERMINAL_STATES.includes(to)) await closeBatchIfDone(tx, op.id);
  // A closed batch opens again while one of its payouts is back in the queue (a retry).
  if (op.kind === "PAYOUT" && TERMINAL_STATES.includes(from)) await reopenBatchOf(tx, op.id);
  return { ageSeconds: changed.age_s };
}

const Changed = z.object({ age_s: z.number() });

/** Pushes an operation's next run out without changing its state. */
export async function reschedule(db: CommonQueryMethods, id: string, inMs: number): Promise<void> {
  await db.query(
    sql.unsafe`UPDATE operations SET next_run_at = now() + ${inMs} * interval '1 millisecond' WHERE id = ${id}`,
  );
}

/** Sets the visible hold reason of an operation while it is still HELD. */
export async function setHoldReason(db: CommonQueryMethods, id: string, reason: string) {
  await db.query(
    sql.unsafe`UPDATE operations SET hold_reason = ${reason} WHERE id = ${id} AND state = 'HELD'`,
  );
}

/** Stores a signed attempt (before it is ever broadcast); returns it as stored. */
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
): Promise<AttemptRow> {
  return tx.one(sql.type(AttemptRow)`
    INSERT INTO attempts (operation_id, attempt_no, tx_id, raw_data, signature, expiration, fee_limit, state)
    VALUES (${a.operationId}, ${a.attemptNo}, ${a.txId}, ${sql.binary(Buffer.from(a.rawData))},
            ${sql.binary(Buffer.from(a.signature))}, 'epoch'::timestamptz + ${a.expiration} * interval '1 millisecond',
            ${a.feeLimit}, 'SIGNED')
    RETURNING ${ATTEMPT_COLUMNS}`);
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

/**
 * Expires the operation's signed attempts that were never sent (an operator requeues it; one
 * live attempt per operation would block the new one). Guarded by the attempt table.
 */
export async function expireUnsentAttempts(tx: CommonQueryMethods, operationId: string) {
  assertAttemptTransition("SIGNED", "EXPIRED");
  await tx.query(sql.unsafe`
    UPDATE attempts SET state = 'EXPIRED' WHERE operation_id = ${operationId} AND state = 'SIGNED'
      AND broadcast_count = 0`);
}

/**
 * Records one broadcast of an attempt's bytes and its outcome; `sent` moves a SIGNED attempt to
 * BROADCAST in the same statement (a maybe-sent outcome). Throws StateChanged when the attempt
 * left its state meanwhile (another worker settled or expired it).
 */
export async function recordBroadcast(
  db: CommonQueryMethods,
  attempt: AttemptRow,
  error: string | null,
  sent: boolean,
): Promise<void> {
  const to: AttemptState = sent && attempt.state === "SIGNED" ? "BROADCAST" : attempt.state;
  if (to !== attempt.state) assertAttemptTransition(attempt.state, to);
  const result = await db.query(sql.unsafe`
    UPDATE attempts SET broadcast_count = broadcast_count + 1, last_broadcast_at = now(),
      last_broadcast_error = ${error}, state = ${to}
    WHERE id = ${attempt.id} AND state = ${attempt.state}`);
  if (result.rowCount !== 1)
    throw new StateChanged(`attempt ${attempt.tx_id} is no longer ${attempt.state}`);
}
