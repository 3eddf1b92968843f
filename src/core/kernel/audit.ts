import { createHash } from "node:crypto";

/**
 * The audit log: append-only (triggers refuse UPDATE, DELETE and TRUNCATE) and hash-chained.
 * A request's append takes no lock: it inserts the entry with the next audit_log_seq number
 * and no hash. The chainer (audit-chain.ts) links committed entries later, and signed
 * checkpoints anchor the chain outside the database (audit-verify.ts, docs/audit.md).
 */

export type { AuditEntry } from "./audit-repo.js";
export { appendAudit, auditAppendCtes, HASHED_COLUMNS, HashedRow } from "./audit-repo.js";

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
