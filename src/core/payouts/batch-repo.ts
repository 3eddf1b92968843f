import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { appendAudit } from "../kernel/audit.js";
import { emitEvent } from "../kernel/outbox.js";

export const BatchRow = z.object({
  id: z.string(),
  principal: z.string(),
  item_count: z.number(),
  state: z.string(),
  created_at: z.number(),
  completed_at: z.number().nullable(),
});
export type BatchRow = z.infer<typeof BatchRow>;

const Count = z.object({ state: z.string(), asset: z.string(), n: z.number(), total: z.bigint() });

/** Inserts a batch row (its payouts are inserted by the caller in the same transaction). */
export async function insertBatch(
  tx: CommonQueryMethods,
  b: { id: string; principal: string; idempotencyKey: string; itemCount: number },
): Promise<void> {
  await tx.query(sql.unsafe`
    INSERT INTO payout_batches (id, principal, idempotency_key, item_count)
    VALUES (${b.id}, ${b.principal}, ${b.idempotencyKey}, ${b.itemCount})`);
}

export async function findBatch(db: CommonQueryMethods, id: string): Promise<BatchRow | null> {
  return db.maybeOne(sql.type(BatchRow)`
    SELECT id, principal, item_count, state, created_at, completed_at FROM payout_batches WHERE id = ${id}`);
}

/** Payout counts and totals per state and asset in a batch. */
export async function batchCounts(db: CommonQueryMethods, id: string) {
  const rows = await db.any(sql.type(Count)`
    SELECT o.state, o.asset, count(*)::int AS n, sum(o.amount)::bigint AS total
    FROM payouts p JOIN operations o ON o.id = p.id WHERE p.batch_id = ${id} GROUP BY o.state, o.asset`);
  return [...rows];
}

const Progress = z.object({
  id: z.string(),
  item_count: z.number(),
  confirmed_count: z.number(),
  failed_count: z.number(),
  cancelled_count: z.number(),
});

/**
 * When the last payout of a batch reaches a terminal state, closes the batch (COMPLETED,
 * PARTIALLY_FAILED, FAILED or CANCELLED) and emits batch.completed, in the caller's transaction.
 * The counts come from the batch row's counters, which the payout's own state change just moved
 * (migration 013) and whose row lock orders payouts finishing together: exactly one of them
 * sees the last count, and nothing is recounted.
 */
export async function closeBatchIfDone(tx: CommonQueryMethods, payoutId: string): Promise<void> {
  const batch = await tx.maybeOne(sql.type(Progress)`
    SELECT b.id, b.item_count, b.confirmed_count, b.failed_count, b.cancelled_count
    FROM payouts p JOIN payout_batches b ON b.id = p.batch_id
    WHERE p.id = ${payoutId} AND b.state = 'PROCESSING'
      AND b.confirmed_count + b.failed_count + b.cancelled_count >= b.item_count`);
  if (!batch) return;
  const batchId = batch.id;
  const confirmed = batch.confirmed_count;
  const failed = batch.failed_count;
  const state =
    confirmed === batch.item_count
      ? "COMPLETED"
      : confirmed > 0
        ? "PARTIALLY_FAILED"
        : failed > 0
          ? "FAILED"
          : "CANCELLED";
  await tx.query(
    sql.unsafe`UPDATE payout_batches SET state = ${state}, completed_at = now() WHERE id = ${batchId}`,
  );
  const details = { state, confirmed, failed, cancelled: batch.cancelled_count };
  await appendAudit(tx, {
    actor: "system:engine",
    action: "batch.completed",
    subject: batchId,
    details,
  });
  await emitEvent(tx, {
    type: "batch.completed",
    subjectId: batchId,
    payload: { id: batchId, ...details },
  });
}
