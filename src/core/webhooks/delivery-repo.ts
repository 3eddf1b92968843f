import { type CommonQueryMethods, type DatabasePool, sql } from "slonik";
import { z } from "zod";
import type { Page } from "../kernel/page.js";
import { webhookCursor } from "./page.js";
import { notFound, pageOf } from "./repo.js";
import { assertDeliveryTransition, redeliverableStatuses } from "./states.js";

/** Delivery rows: one per (endpoint, event), their claims and outcomes. */

export const DeliveryRow = z.object({
  id: z.string(),
  endpoint_id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  status: z.enum(["PENDING", "DELIVERED", "FAILED"]),
  attempt_count: z.number(),
  last_response_code: z.number(),
  last_error: z.string(),
  last_attempt_at: z.number().nullable(),
  next_attempt_at: z.number(),
  created_at: z.number(),
});
export type DeliveryRow = z.infer<typeof DeliveryRow>;
export type DeliveryStatus = DeliveryRow["status"];

const COLUMNS = sql.fragment`id, endpoint_id, event_id, event_type, status, attempt_count, last_response_code,
  last_error, last_attempt_at, next_attempt_at, created_at`;

/** What the worker needs to send one claimed delivery. */
export const ClaimedDelivery = z.object({
  id: z.string(),
  endpoint_id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  attempt_count: z.number(),
  retry_from: z.number(),
  payload: z.unknown(),
  event_created_at: z.number(),
  url: z.string(),
  secret_enc: z.instanceof(Buffer),
  previous_secret_enc: z.instanceof(Buffer).nullable(),
  previous_secret_expires_at: z.number().nullable(),
  now: z.number(),
});
export type ClaimedDelivery = z.infer<typeof ClaimedDelivery>;

/**
 * Claims due deliveries for `leaseMs` (a crashed worker's claims come back after it). Only the
 * oldest pending delivery of each (endpoint, subject) is due, so a subject's events arrive in
 * outbox order.
 */
export async function claimDueDeliveries(
  pool: DatabasePool,
  limit: number,
  leaseMs: number,
): Promise<readonly ClaimedDelivery[]> {
  if (limit <= 0) return [];
  return pool.any(sql.type(ClaimedDelivery)`
    WITH claimed AS (
      UPDATE webhook_deliveries SET next_attempt_at = now() + ${leaseMs} * interval '1 millisecond'
      WHERE id IN (
        SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE d.status = 'PENDING' AND d.next_attempt_at <= now() AND e.state <> 'DISABLED'
          AND NOT EXISTS (
            SELECT 1 FROM webhook_deliveries p
            WHERE p.endpoint_id = d.endpoint_id AND p.subject_id = d.subject_id
              AND p.status = 'PENDING' AND p.event_seq < d.event_seq)
        ORDER BY d.next_attempt_at, d.event_seq
        LIMIT ${limit}
        FOR UPDATE OF d SKIP LOCKED)
      RETURNING id, endpoint_id, event_id, event_type, attempt_count, retry_from)
    SELECT c.id, c.endpoint_id, c.event_id, c.event_type, c.attempt_count, c.retry_from, o.payload,
           o.created_at AS event_created_at, e.url, e.secret_enc, e.previous_secret_enc,
           e.previous_secret_expires_at, now() AS now
    FROM claimed c JOIN outbox o ON o.event_id = c.event_id JOIN webhook_endpoints e ON e.id = c.endpoint_id`);
}

/** The result of one attempt, as stored. */
export interface AttemptOutcome {
  status: DeliveryStatus;
  responseCode: number;
  error: string;
  /** When PENDING: the delay before the next attempt. */
  retryInMs?: number;
}

/** Stores an attempt's outcome; false if the delivery is gone or no longer PENDING. */
export async function recordAttempt(
  tx: CommonQueryMethods,
  id: string,
  o: AttemptOutcome,
): Promise<boolean> {
  assertDeliveryTransition("PENDING", o.status, "system");
  const result = await tx.query(sql.unsafe`
    UPDATE webhook_deliveries SET
      status = ${o.status}, attempt_count = attempt_count + 1,
      last_response_code = ${o.responseCode}, last_error = ${o.error}, last_attempt_at = now(),
      next_attempt_at = now() + ${o.retryInMs ?? 0} * interval '1 millisecond'
    WHERE id = ${id} AND status = 'PENDING'`);
  return result.rowCount === 1;
}

/** Puts one delivery back to PENDING, due now, with a fresh retry window. */
export async function redeliverOne(tx: CommonQueryMethods, id: string): Promise<DeliveryRow> {
  const row = await tx.maybeOne(sql.type(DeliveryRow)`
    UPDATE webhook_deliveries
    SET status = 'PENDING', next_attempt_at = now(), retry_from = now()
    WHERE id = ${id} AND status = ANY(${sql.array(redeliverableStatuses(), "text")})
    RETURNING ${COLUMNS}`);
  if (!row) throw notFound();
  return row;
}

/** Puts every FAILED delivery of an endpoint back to PENDING; returns how many. */
export async function redeliverFailed(tx: CommonQueryMethods, endpointId: string): Promise<number> {
  assertDeliveryTransition("FAILED", "PENDING", "operator");
  const result = await tx.query(sql.unsafe`
    UPDATE webhook_deliveries
    SET status = 'PENDING', next_attempt_at = now(), retry_from = now()
    WHERE endpoint_id = ${endpointId} AND status = 'FAILED'`);
  return result.rowCount;
}

/** Filters for listing deliveries; empty arrays and undefined bounds mean "any". */
export interface DeliveryQuery {
  endpointId: string;
  statuses: DeliveryStatus[];
  eventTypes: string[];
  startMs?: number;
  endMs?: number;
  pageSize: number;
  pageToken: string;
}

/** One page of deliveries, newest first. */
export async function listDeliveries(
  db: CommonQueryMethods,
  q: DeliveryQuery,
): Promise<Page<DeliveryRow>> {
  const cursor = webhookCursor(q.pageToken);
  const created = sql.fragment`date_trunc('milliseconds', created_at)`;
  const where = [sql.fragment`TRUE`];
  if (q.endpointId !== "") where.push(sql.fragment`endpoint_id = ${q.endpointId}`);
  if (q.statuses.length > 0)
    where.push(sql.fragment`status = ANY(${sql.array(q.statuses, "text")})`);
  if (q.eventTypes.length > 0) {
    where.push(sql.fragment`event_type = ANY(${sql.array(q.eventTypes, "text")})`);
  }
  if (q.startMs !== undefined) where.push(sql.fragment`created_at >= ${ts(q.startMs)}`);
  if (q.endMs !== undefined) where.push(sql.fragment`created_at < ${ts(q.endMs)}`);
  if (cursor) where.push(sql.fragment`(${created}, id) < (${ts(cursor.createdAt)}, ${cursor.id})`);
  const rows = await db.any(sql.type(DeliveryRow)`
    SELECT ${COLUMNS} FROM webhook_deliveries WHERE ${sql.join(where, sql.fragment` AND `)}
    ORDER BY ${created} DESC, id DESC LIMIT ${q.pageSize + 1}`);
  return pageOf(rows, q.pageSize);
}

function ts(ms: number) {
  return sql.timestamp(new Date(ms));
}
