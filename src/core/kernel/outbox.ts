import { randomUUID } from "node:crypto";
import { type CommonQueryMethods, sql } from "slonik";
import { type EventType, eventSpec, type PayloadOf } from "../events/catalog.js";

/**
 * The outbox: events written in the same transaction as the change they describe. Webhook
 * delivery and batch watchers read them; nothing is published that was not committed. Types
 * and payloads are the ones in events/catalog.ts; the subject follows from the payload there.
 */
export type OutboxEvent = { [T in EventType]: { type: T; payload: PayloadOf<T> } }[EventType];

/** Writes one event inside the caller's transaction and returns its event id. */
export async function emitEvent<T extends EventType>(
  tx: CommonQueryMethods,
  type: T,
  payload: PayloadOf<T>,
): Promise<string> {
  const { eventIds, cte } = eventCte([{ type, payload } as OutboxEvent]);
  await tx.query(sql.unsafe`WITH ${cte} SELECT 1`);
  return eventIds[0] as string;
}

/**
 * The common table expression (outbox_append) that writes events in the given order, for a
 * statement that writes other rows too; emitEvent is this alone. At most one per statement.
 */
export function eventCte(events: readonly OutboxEvent[]) {
  const eventIds = events.map(() => `evt_${randomUUID().replaceAll("-", "")}`);
  const rows = events.map(
    (e, i) =>
      sql.fragment`(${eventIds[i] as string}, ${e.type}, ${eventSpec(e.type).subject(e.payload)},
                    ${sql.jsonb(e.payload as never)})`,
  );
  const cte = sql.fragment`outbox_append AS (
    INSERT INTO outbox (event_id, type, subject_id, payload)
    VALUES ${sql.join(rows, sql.fragment`, `)})`;
  return { eventIds, cte };
}
