import { randomUUID } from "node:crypto";
import { type CommonQueryMethods, sql } from "slonik";

/**
 * The outbox: events written in the same transaction as the change they describe. Webhook
 * delivery and batch watchers read them; nothing is published that was not committed.
 */
export interface OutboxEvent {
  /** Dotted type, e.g. "payout.confirmed". */
  type: string;
  /** The id of what the event is about (a payout, a batch). */
  subjectId: string;
  payload: Record<string, unknown>;
}

/** Writes one event inside the caller's transaction and returns its event id. */
export async function emitEvent(tx: CommonQueryMethods, event: OutboxEvent): Promise<string> {
  const { eventId, cte } = eventCte(event);
  await tx.query(sql.unsafe`WITH ${cte} SELECT 1`);
  return eventId;
}

/**
 * The common table expression (outbox_append) that writes one event, for a statement that
 * writes other rows too; emitEvent is this alone. At most one per statement.
 */
export function eventCte(event: OutboxEvent) {
  const eventId = `evt_${randomUUID().replaceAll("-", "")}`;
  const cte = sql.fragment`outbox_append AS (
    INSERT INTO outbox (event_id, type, subject_id, payload)
    VALUES (${eventId}, ${event.type}, ${event.subjectId}, ${sql.jsonb(event.payload as never)}))`;
  return { eventId, cte };
}
