import { type DatabasePool, sql } from "slonik";
import { z } from "zod";
import { newId } from "../kernel/ids.js";
import { publicTypeOf } from "./events.js";
import { type EndpointRow, receivingEndpoints } from "./repo.js";

/**
 * The dispatcher: turns committed outbox rows into delivery rows, one per subscribed endpoint.
 * It walks the outbox by (txid, seq) up to the oldest running transaction (see
 * 004_webhooks.sql for why seq alone would skip events), under a row lock on the cursor so
 * replicas take turns; the unique (endpoint_id, event_id) makes a repeated pass harmless.
 */

const Cursor = z.object({ last_txid: z.string(), last_seq: z.bigint() });
const EventRow = z.object({
  seq: z.bigint(),
  txid: z.string(),
  event_id: z.string(),
  type: z.string(),
  subject_id: z.string(),
  created_at: z.number(),
});
type EventRow = z.infer<typeof EventRow>;

/** Queues deliveries for up to `batch` new outbox events; returns how many events it passed. */
export async function dispatchOutbox(pool: DatabasePool, batch = 500): Promise<number> {
  return pool.transaction(async (tx) => {
    const cursor = await tx.one(sql.type(Cursor)`
      SELECT last_txid::text AS last_txid, last_seq FROM webhook_dispatch_cursor FOR UPDATE`);
    const events = await tx.any(sql.type(EventRow)`
      SELECT seq, txid::text AS txid, event_id, type, subject_id, created_at FROM outbox
      WHERE (txid, seq) > (${cursor.last_txid}::xid8, ${cursor.last_seq})
        AND txid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY txid, seq LIMIT ${batch}`);
    const last = events.at(-1);
    if (!last) return 0;
    const rows = deliveriesFor(events, await receivingEndpoints(tx));
    if (rows.length > 0) {
      await tx.query(sql.unsafe`
        INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_seq, event_type, subject_id)
        SELECT * FROM ${sql.unnest(rows, ["text", "text", "text", "int8", "text", "text"])}
        ON CONFLICT (endpoint_id, event_id) DO NOTHING`);
    }
    await tx.query(sql.unsafe`
      UPDATE webhook_dispatch_cursor SET last_txid = ${last.txid}::xid8, last_seq = ${last.seq}`);
    return events.length;
  });
}

/** The delivery rows for events × endpoints: subscribed, and not older than the endpoint. */
function deliveriesFor(
  events: readonly EventRow[],
  endpoints: readonly EndpointRow[],
): [string, string, string, string, string, string][] {
  const rows: [string, string, string, string, string, string][] = [];
  for (const e of events) {
    const type = publicTypeOf(e.type);
    if (type === undefined) continue;
    for (const ep of endpoints) {
      if (!ep.event_types.includes(type) || e.created_at < ep.created_at) continue;
      rows.push([newId("whd"), ep.id, e.event_id, e.seq.toString(), type, e.subject_id]);
    }
  }
  return rows;
}
