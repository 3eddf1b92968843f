import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import type { Page } from "../kernel/page.js";
import { webhookCursor, webhookPageToken } from "./page.js";
import { assertEndpointTransition, ENDPOINT_STATES, stateAfterOutcome } from "./states.js";

/** Webhook endpoints in Postgres. Secrets are stored sealed (secret-box.ts), never in clear. */

export const EndpointRow = z.object({
  id: z.string(),
  url: z.string(),
  event_types: z.array(z.string()),
  description: z.string(),
  state: z.enum(["ACTIVE", "DISABLED", "FAILING"]),
  secret_enc: z.instanceof(Buffer),
  secret_created_at: z.number(),
  previous_secret_enc: z.instanceof(Buffer).nullable(),
  previous_secret_expires_at: z.number().nullable(),
  consecutive_failures: z.number(),
  last_success_at: z.number().nullable(),
  created_at: z.number(),
  updated_at: z.number(),
});
export type EndpointRow = z.infer<typeof EndpointRow>;
export type EndpointState = EndpointRow["state"];

const COLUMNS = sql.fragment`id, url, event_types, description, state, secret_enc, secret_created_at,
  previous_secret_enc, previous_secret_expires_at, consecutive_failures, last_success_at, created_at, updated_at`;

/** Stores a new endpoint and returns it. */
export async function insertEndpoint(
  tx: CommonQueryMethods,
  e: {
    id: string;
    url: string;
    eventTypes: string[];
    description: string;
    secretEnc: Buffer;
    by: string;
  },
): Promise<EndpointRow> {
  return tx.one(sql.type(EndpointRow)`
    INSERT INTO webhook_endpoints (id, url, event_types, description, secret_enc, created_by)
    VALUES (${e.id}, ${e.url}, ${sql.array(e.eventTypes, "text")}, ${e.description},
            ${sql.binary(e.secretEnc)}, ${e.by})
    RETURNING ${COLUMNS}`);
}

/** One endpoint, or null. */
export async function findEndpoint(
  db: CommonQueryMethods,
  id: string,
): Promise<EndpointRow | null> {
  return db.maybeOne(
    sql.type(EndpointRow)`SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = ${id}`,
  );
}

/** One endpoint locked for the caller's transaction; throws webhook.not_found. */
export async function lockEndpoint(tx: CommonQueryMethods, id: string): Promise<EndpointRow> {
  const row = await tx.maybeOne(
    sql.type(EndpointRow)`SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = ${id} FOR UPDATE`,
  );
  if (!row) throw notFound();
  return row;
}

/** The fields an update may change; undefined leaves a field as it is. */
export interface EndpointPatch {
  url?: string;
  eventTypes?: string[];
  description?: string;
  state?: EndpointState;
}

/**
 * Applies a patch to an endpoint and returns the result; a state change must be in the
 * operator's table (states.ts), checked against the state under the row's lock.
 */
export async function updateEndpoint(
  tx: CommonQueryMethods,
  id: string,
  p: EndpointPatch,
): Promise<EndpointRow> {
  const from = await tx.maybeOneFirst(sql.type(z.object({ state: EndpointRow.shape.state }))`
    SELECT state FROM webhook_endpoints WHERE id = ${id} FOR UPDATE`);
  if (from === null) throw notFound();
  if (p.state) assertEndpointTransition(from, p.state, "operator");
  return tx.one(sql.type(EndpointRow)`
    UPDATE webhook_endpoints SET
      url = ${p.url ?? sql.fragment`url`},
      event_types = ${p.eventTypes ? sql.array(p.eventTypes, "text") : sql.fragment`event_types`},
      description = ${p.description ?? sql.fragment`description`},
      state = ${p.state ?? sql.fragment`state`},
      consecutive_failures = ${p.state === "ACTIVE" ? 0 : sql.fragment`consecutive_failures`},
      updated_at = now()
    WHERE id = ${id} AND state = ${from}
    RETURNING ${COLUMNS}`);
}

/** Replaces the secret; the old one keeps signing until `previousExpiresAt` (null: not at all). */
export async function replaceSecret(
  tx: CommonQueryMethods,
  id: string,
  s: { secretEnc: Buffer; previousEnc: Buffer | null; previousExpiresAt: number | null },
): Promise<EndpointRow> {
  const expires =
    s.previousExpiresAt === null ? null : sql.timestamp(new Date(s.previousExpiresAt));
  return tx.one(sql.type(EndpointRow)`
    UPDATE webhook_endpoints SET
      secret_enc = ${sql.binary(s.secretEnc)}, secret_created_at = now(),
      previous_secret_enc = ${s.previousEnc ? sql.binary(s.previousEnc) : null},
      previous_secret_expires_at = ${expires}, updated_at = now()
    WHERE id = ${id}
    RETURNING ${COLUMNS}`);
}

/** Deletes an endpoint; its deliveries go with it (ON DELETE CASCADE). */
export async function deleteEndpoint(tx: CommonQueryMethods, id: string): Promise<void> {
  const result = await tx.query(sql.unsafe`DELETE FROM webhook_endpoints WHERE id = ${id}`);
  if (result.rowCount !== 1) throw notFound();
}

/** One page of endpoints, oldest first. */
export async function listEndpoints(
  db: CommonQueryMethods,
  q: { states: EndpointState[]; pageSize: number; pageToken: string },
): Promise<Page<EndpointRow>> {
  const cursor = webhookCursor(q.pageToken);
  const conditions = [sql.fragment`TRUE`];
  if (q.states.length > 0)
    conditions.push(sql.fragment`state = ANY(${sql.array(q.states, "text")})`);
  if (cursor) {
    conditions.push(
      sql.fragment`(date_trunc('milliseconds', created_at), id) > (${sql.timestamp(new Date(cursor.createdAt))}, ${cursor.id})`,
    );
  }
  const rows = await db.any(sql.type(EndpointRow)`
    SELECT ${COLUMNS} FROM webhook_endpoints WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY date_trunc('milliseconds', created_at), id LIMIT ${q.pageSize + 1}`);
  return pageOf(rows, q.pageSize);
}

/** The active (not disabled) endpoints, for the dispatcher. */
export async function receivingEndpoints(db: CommonQueryMethods): Promise<readonly EndpointRow[]> {
  return db.any(
    sql.type(EndpointRow)`SELECT ${COLUMNS} FROM webhook_endpoints WHERE state <> 'DISABLED'`,
  );
}

/** Splits `pageSize + 1` rows into a page and the next token. */
export function pageOf<R extends { created_at: number; id: string }>(
  rows: readonly R[],
  pageSize: number,
): Page<R> {
  const items = rows.slice(0, pageSize);
  const last = items.at(-1);
  const more = rows.length > pageSize && last !== undefined;
  return { items, nextPageToken: more ? webhookPageToken(last.created_at, last.id) : "" };
}

export function notFound(): AppError {
  return new AppError("webhook.not_found", "no webhook endpoint or delivery with that id");
}

/** How an attempt's outcome moves its endpoint. */
export type EndpointOutcome = "success" | "failure" | "gave_up" | "gone";

/**
 * Updates an endpoint's counters and state after an attempt: a success clears failures and
 * ends FAILING, a delivery given up marks it FAILING, 410 Gone disables it. Returns the states
 * before and after (equal when unchanged), or null if the endpoint is gone.
 */
export async function applyOutcome(
  tx: CommonQueryMethods,
  id: string,
  outcome: EndpointOutcome,
): Promise<{ from: EndpointState; to: EndpointState } | null> {
  // The state each current state goes to, from the table (states.ts), in the one statement.
  const next = sql.fragment`CASE e.state ${sql.join(
    ENDPOINT_STATES.map((s) => sql.fragment`WHEN ${s} THEN ${stateAfterOutcome(s, outcome)}::text`),
    sql.fragment` `,
  )} END`;
  const States = z.object({ from: EndpointRow.shape.state, to: EndpointRow.shape.state });
  return tx.maybeOne(sql.type(States)`
    UPDATE webhook_endpoints e SET
      state = ${next},
      consecutive_failures = ${outcome === "success" ? 0 : sql.fragment`e.consecutive_failures + 1`},
      last_success_at = ${outcome === "success" ? sql.fragment`now()` : sql.fragment`e.last_success_at`},
      updated_at = CASE WHEN ${next} <> e.state THEN now() ELSE e.updated_at END
    FROM (SELECT id, state FROM webhook_endpoints WHERE id = ${id} FOR UPDATE) old
    WHERE e.id = old.id
    RETURNING old.state AS "from", e.state AS "to"`);
}
