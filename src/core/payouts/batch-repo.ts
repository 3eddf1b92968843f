import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { appendAudit } from "../audit.js";
import { emitEvent } from "../outbox.js";

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

/**
 * When the last payout of a batch reaches a terminal state, closes the batch (COMPLETED,
 * PARTIALLY_FAILED, FAILED or CANCELLED) and emits batch.completed, in the caller's transaction.
 * The batch row is locked first so two payouts finishing together close it once.
 */
export async function closeBatchIfDone(tx: CommonQueryMethods, payoutId: string): Promise<void> {
  const batchId = await tx.maybeOneFirst(sql.type(z.object({ batch_id: z.string().nullable() }))`
    SELECT batch_id FROM payouts WHERE id = ${payoutId}`);
  if (!batchId) return;
  const batch = await tx.maybeOne(sql.type(BatchRow)`
    SELECT id, principal, item_count, state, created_at, completed_at FROM payout_batches
    WHERE id = ${batchId} AND state = 'PROCESSING' FOR UPDATE`);
  if (!batch) return;
  const counts = await batchCounts(tx, batchId);
  const byState = (s: string) => counts.filter((c) => c.state === s).reduce((n, c) => n + c.n, 0);
  const open = counts.filter((c) => !["CONFIRMED", "FAILED", "CANCELLED"].includes(c.state)).length;
  if (open > 0) return;
  const confirmed = byState("CONFIRMED");
  const failed = byState("FAILED");
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
  const details = { state, confirmed, failed, cancelled: byState("CANCELLED") };
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
