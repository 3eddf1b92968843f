import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

/** What the dispatcher reads and writes: its cursor, committed outbox rows, new deliveries. */

/** Where the dispatcher stopped: the (txid, seq) of the last outbox row it passed. */
const Cursor = z.object({ last_txid: z.string(), last_seq: z.bigint() });
export type DispatchCursor = z.infer<typeof Cursor>;

/** An outbox row as the dispatcher reads it (txid as text: xid8 has no JS type). */
export const OutboxEventRow = z.object({
  seq: z.bigint(),
  txid: z.string(),
  event_id: z.string(),
  type: z.string(),
  subject_id: z.string(),
  created_at: z.number(),
});
export type OutboxEventRow = z.infer<typeof OutboxEventRow>;

/** A delivery to insert: id, endpoint_id, event_id, event_seq, event_type, subject_id. */
export type NewDelivery = [string, string, string, string, string, string];

/** The dispatch cursor, locked FOR UPDATE so that replicas take turns. */
export async function lockDispatchCursor(tx: CommonQueryMethods): Promise<DispatchCursor> {
  return tx.one(sql.type(Cursor)`
    SELECT last_txid::text AS last_txid, last_seq FROM webhook_dispatch_cursor FOR UPDATE`);
}

/**
 * Up to `limit` outbox rows after the cursor in (txid, seq) order, from transactions older
 * than the oldest one still running (a later one can no longer commit below them).
 */
export async function committedEventsAfter(
  tx: CommonQueryMethods,
  cursor: DispatchCursor,
  limit: number,
): Promise<readonly OutboxEventRow[]> {
  return tx.any(sql.type(OutboxEventRow)`
    SELECT seq, txid::text AS txid, event_id, type, subject_id, created_at FROM outbox
    WHERE (txid, seq) > (${cursor.last_txid}::xid8, ${cursor.last_seq})
      AND txid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY txid, seq LIMIT ${limit}`);
}

/** Inserts deliveries, skipping any (endpoint, event) that already has one. */
export async function insertDeliveries(
  tx: CommonQueryMethods,
  rows: readonly NewDelivery[],
): Promise<void> {
  await tx.query(sql.unsafe`
    INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_seq, event_type, subject_id)
    SELECT * FROM ${sql.unnest(rows, ["text", "text", "text", "int8", "text", "text"])}
    ON CONFLICT (endpoint_id, event_id) DO NOTHING`);
}

/** Moves the dispatch cursor to the outbox row `last`. */
export async function advanceDispatchCursor(
  tx: CommonQueryMethods,
  last: Pick<OutboxEventRow, "txid" | "seq">,
): Promise<void> {
  await tx.query(sql.unsafe`
    UPDATE webhook_dispatch_cursor SET last_txid = ${last.txid}::xid8, last_seq = ${last.seq}`);
}
