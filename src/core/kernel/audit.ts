import { createHash } from "node:crypto";
import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

/**
 * The audit log: append-only (triggers refuse UPDATE, DELETE and TRUNCATE) and hash-chained.
 * A request's append takes no lock: it inserts the entry with the next audit_log_seq number
 * and no hash. The chainer (audit-chain.ts) links committed entries later, and signed
 * checkpoints anchor the chain outside the database (audit-verify.ts, docs/audit.md).
 */

export interface AuditEntry {
  actor: string;
  action: string;
  subject: string;
  details?: Record<string, unknown>;
}

/** Appends one entry inside the caller's transaction; it becomes part of the chain once it commits. */
export async function appendAudit(tx: CommonQueryMethods, entry: AuditEntry): Promise<void> {
  await tx.query(sql.unsafe`WITH ${auditAppendCtes(entry)} SELECT 1`);
}

/**
 * The common table expressions (audit_xact, audit_append) that append one entry, for a
 * statement that writes other rows too (one round trip instead of two); appendAudit is this
 * alone. At most one per statement.
 */
export function auditAppendCtes(entry: AuditEntry) {
  // Whole milliseconds, stored exactly (interval arithmetic, no float).
  const time = Date.now();
  // The transaction takes its id before its seq number (the materialized CTE runs first): the
  // chainer's rule for when a number is settled relies on it (audit-chain.ts).
  return sql.fragment`
    audit_xact AS MATERIALIZED (SELECT pg_current_xact_id() AS id),
    audit_append AS (
      INSERT INTO audit_log (seq, time, actor, action, subject, details)
      SELECT nextval('audit_log_seq'), 'epoch'::timestamptz + ${time} * interval '1 millisecond',
             ${entry.actor}, ${entry.action}, ${entry.subject}, ${sql.jsonb((entry.details ?? {}) as never)}
      FROM audit_xact)`;
}

/** What an entry's hash covers, as read from the database (see HASHED_COLUMNS). */
export interface HashedEntry {
  seq: bigint;
  format: number;
  /** ms since the epoch (format 1). */
  time: number;
  /** µs since the epoch as a decimal string (format 2). */
  timeUs: string;
  actor: string;
  action: string;
  subject: string;
  /** details as parsed (format 1). */
  details?: unknown;
  /** details as PostgreSQL prints the stored jsonb (format 2). */
  detailsText: string;
}

/** The columns HashedEntry is read from. */
export const HASHED_COLUMNS = sql.fragment`seq, format, time,
  (extract(epoch FROM time) * 1000000)::numeric(30, 0)::text AS time_us, actor, action, subject,
  details, details::text AS details_text`;

/** The row HASHED_COLUMNS selects. */
export const HashedRow = z.object({
  seq: z.bigint(),
  format: z.number(),
  time: z.number(),
  time_us: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  details: z.unknown(),
  details_text: z.string(),
});

/** The hash that links an entry to `prev` in its format. */
export function entryHash(e: HashedEntry, prev: string): string {
  const canonical =
    e.format === 1
      ? [e.seq.toString(), e.time, e.actor, e.action, e.subject, sortKeys(e.details), prev]
      : // Text, not parsed values: every stored digit and microsecond is covered.
        ["2", e.seq.toString(), e.timeUs, e.actor, e.action, e.subject, e.detailsText, prev];
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

/** The prev_hash of the first entry. */
export const GENESIS_HASH = "0".repeat(64);

/** JSON with object keys sorted, so jsonb's reordering does not change a format 1 hash. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
