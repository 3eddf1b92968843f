import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { publicTypeOf } from "../src/core/webhooks/events.js";

/**
 * Where each outbox event stands for the chaos receiver's endpoint, read from the database:
 * received, still correctly on its way, or lost (and how). The receiver's own count decides
 * "received"; the database only explains the rest.
 */

/** Still on its way: not a loss yet. */
export const PENDING_KINDS = [
  "not dispatched yet", // no delivery row; the dispatcher's cursor has not passed the event
  "due", // PENDING and due now: the next poll claims it
  "leased", // PENDING, never attempted, claimed: in flight, or its worker died (lease runs out)
  "retry scheduled", // PENDING, attempted, next attempt (or a claim's lease) in the future
  "behind its subject", // PENDING, waits for an earlier event of the same subject
] as const;
/** Lost: nothing will ever deliver it. */
export const LOST_KINDS = [
  "never scheduled", // no delivery row, and the cursor has passed the event
  "given up", // FAILED
  "endpoint disabled", // PENDING on a DISABLED endpoint
  "acknowledged, not received", // DELIVERED, but the receiver never counted its webhook-id
] as const;
export type EventKind = (typeof PENDING_KINDS)[number] | (typeof LOST_KINDS)[number];

const Row = z.object({
  event_id: z.string(),
  type: z.string(),
  before_endpoint: z.boolean(),
  passed: z.boolean(),
  status: z.string().nullable(),
  attempt_count: z.number().nullable(),
  next_in_ms: z.number().nullable(),
  last_response_code: z.number().nullable(),
  last_error: z.string().nullable(),
  blocked: z.boolean(),
  endpoint_state: z.string(),
});
type Row = z.infer<typeof Row>;

/** One event the receiver has not received, with its delivery row as stored. */
export interface Undelivered {
  eventId: string;
  type: string;
  kind: EventKind;
  /** Until its next attempt is due (negative: overdue); null without a delivery row. */
  nextInMs: number | null;
  detail: string;
}

export interface DeliveryCensus {
  /** Events the endpoint should get (public types, committed after it was registered). */
  expected: number;
  received: number;
  /** Outbox events no receiver gets (internal types, or older than the endpoint), by type. */
  notExpected: Map<string, number>;
  pending: Undelivered[];
  lost: Undelivered[];
}

/** Reads every outbox event's delivery to `endpointId` and sorts the ones not received. */
export async function census(
  db: CommonQueryMethods,
  endpointId: string,
  received: ReadonlySet<string>,
): Promise<DeliveryCensus> {
  const rows = await db.any(sql.type(Row)`
    SELECT o.event_id, o.type, o.created_at < e.created_at AS before_endpoint,
           (o.txid, o.seq) <= (c.last_txid, c.last_seq) AS passed,
           d.status, d.attempt_count,
           (extract(epoch FROM d.next_attempt_at - now()) * 1000)::float8 AS next_in_ms,
           d.last_response_code, d.last_error,
           EXISTS (SELECT 1 FROM webhook_deliveries p
                   WHERE p.endpoint_id = e.id AND p.subject_id = o.subject_id
                     AND p.status = 'PENDING' AND p.event_seq < o.seq) AS blocked,
           e.state AS endpoint_state
    FROM outbox o
    JOIN webhook_endpoints e ON e.id = ${endpointId}
    CROSS JOIN webhook_dispatch_cursor c
    LEFT JOIN webhook_deliveries d ON d.endpoint_id = e.id AND d.event_id = o.event_id`);
  const c: DeliveryCensus = {
    expected: 0,
    received: 0,
    notExpected: new Map(),
    pending: [],
    lost: [],
  };
  for (const r of rows) {
    if (publicTypeOf(r.type) === undefined || r.before_endpoint) {
      const key = r.before_endpoint ? `${r.type} (before the endpoint)` : r.type;
      c.notExpected.set(key, (c.notExpected.get(key) ?? 0) + 1);
      continue;
    }
    c.expected++;
    if (received.has(r.event_id)) {
      c.received++;
      continue;
    }
    const kind = kindOf(r);
    const entry = {
      eventId: r.event_id,
      type: r.type,
      kind,
      nextInMs: r.next_in_ms,
      detail: detailOf(r),
    };
    if ((LOST_KINDS as readonly string[]).includes(kind)) c.lost.push(entry);
    else c.pending.push(entry);
  }
  return c;
}

function kindOf(r: Row): EventKind {
  if (r.status === null) return r.passed ? "never scheduled" : "not dispatched yet";
  if (r.status === "FAILED") return "given up";
  if (r.status === "DELIVERED") return "acknowledged, not received";
  if (r.endpoint_state === "DISABLED") return "endpoint disabled";
  if (r.blocked) return "behind its subject";
  if ((r.next_in_ms ?? 0) <= 0) return "due";
  return r.attempt_count === 0 ? "leased" : "retry scheduled";
}

function detailOf(r: Row): string {
  if (r.status === null) return "no delivery row";
  const next = Math.round(r.next_in_ms ?? 0);
  return `${r.status}, ${r.attempt_count} attempts, next ${next >= 0 ? "in" : "overdue by"} ${Math.abs(next)} ms, last ${r.last_response_code || "-"} ${r.last_error || ""}`.trim();
}

/** Counts by kind, e.g. "scheduled 3, due 1". */
export function tally(list: readonly Undelivered[]): string {
  const counts = new Map<string, number>();
  for (const u of list) counts.set(u.kind, (counts.get(u.kind) ?? 0) + 1);
  return listCounts(counts);
}

/** "a 3, b 1" from a map of counts. */
export function listCounts(counts: ReadonlyMap<string, number>): string {
  return [...counts].map(([k, n]) => `${k} ${n}`).join(", ");
}
