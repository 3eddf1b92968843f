import type { DatabasePool } from "slonik";
import { newId } from "../kernel/ids.js";
import {
  advanceDispatchCursor,
  committedEventsAfter,
  insertDeliveries,
  lockDispatchCursor,
  type NewDelivery,
  type OutboxEventRow,
} from "./dispatch-repo.js";
import { publicTypeOf } from "./events.js";
import { type EndpointRow, receivingEndpoints } from "./repo.js";

/**
 * The dispatcher: turns committed outbox rows into delivery rows, one per subscribed endpoint.
 * It walks the outbox by (txid, seq) up to the oldest running transaction (see
 * 004_webhooks.sql for why seq alone would skip events), under a row lock on the cursor so
 * replicas take turns; the unique (endpoint_id, event_id) makes a repeated pass harmless.
 */

/** Queues deliveries for up to `batch` new outbox events; returns how many events it passed. */
export async function dispatchOutbox(pool: DatabasePool, batch = 500): Promise<number> {
  return pool.transaction(async (tx) => {
    const cursor = await lockDispatchCursor(tx);
    const events = await committedEventsAfter(tx, cursor, batch);
    const last = events.at(-1);
    if (!last) return 0;
    const rows = deliveriesFor(events, await receivingEndpoints(tx));
    if (rows.length > 0) await insertDeliveries(tx, rows);
    await advanceDispatchCursor(tx, last);
    return events.length;
  });
}

/** The delivery rows for events × endpoints: subscribed, and not older than the endpoint. */
function deliveriesFor(
  events: readonly OutboxEventRow[],
  endpoints: readonly EndpointRow[],
): NewDelivery[] {
  const rows: NewDelivery[] = [];
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
