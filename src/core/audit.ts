import { createHash } from "node:crypto";
import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

/**
 * The audit log: append-only (a trigger refuses UPDATE and DELETE) and hash-chained, so that
 * an altered or deleted row is detected by verifyAudit. Appends are serialized by the row lock
 * on audit_head, taken inside the caller's transaction.
 */

export interface AuditEntry {
  actor: string;
  action: string;
  subject: string;
  details?: Record<string, unknown>;
}

const HEAD = z.object({ seq: z.bigint(), hash: z.string() });
const ROW = z.object({
  seq: z.bigint(),
  time: z.number(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  details: z.record(z.unknown()),
  prev_hash: z.string(),
  hash: z.string(),
});

/** Appends one entry inside the caller's transaction. */
export async function appendAudit(tx: CommonQueryMethods, entry: AuditEntry): Promise<void> {
  const head = await tx.one(sql.type(HEAD)`SELECT seq, hash FROM audit_head FOR UPDATE`);
  const seq = head.seq + 1n;
  // Whole milliseconds, stored exactly (interval arithmetic, no float), so the hash recomputes.
  const time = Date.now();
  const details = entry.details ?? {};
  const hash = auditHash(seq, time, entry.actor, entry.action, entry.subject, details, head.hash);
  await tx.query(sql.unsafe`
    INSERT INTO audit_log (seq, time, actor, action, subject, details, prev_hash, hash)
    VALUES (${seq}, 'epoch'::timestamptz + ${time} * interval '1 millisecond', ${entry.actor}, ${entry.action}, ${entry.subject},
            ${sql.jsonb(details as never)}, ${head.hash}, ${hash})`);
  await tx.query(sql.unsafe`UPDATE audit_head SET seq = ${seq}, hash = ${hash}`);
}

/** The outcome of a chain check. */
export interface AuditVerification {
  ok: boolean;
  checked: number;
  /** The first row that does not verify (or where a row is missing). */
  firstBadSeq?: bigint;
}

/** Walks the whole chain and reports the first broken link. */
export async function verifyAudit(db: CommonQueryMethods): Promise<AuditVerification> {
  const rows = await db.any(
    sql.type(
      ROW,
    )`SELECT seq, time, actor, action, subject, details, prev_hash, hash FROM audit_log ORDER BY seq`,
  );
  let prev = "0".repeat(64);
  let expected = 1n;
  for (const r of rows) {
    const recomputed = auditHash(
      r.seq,
      r.time,
      r.actor,
      r.action,
      r.subject,
      r.details,
      r.prev_hash,
    );
    if (r.seq !== expected || r.prev_hash !== prev || r.hash !== recomputed) {
      return { ok: false, checked: Number(expected - 1n), firstBadSeq: expected };
    }
    prev = r.hash;
    expected++;
  }
  const head = await db.one(sql.type(HEAD)`SELECT seq, hash FROM audit_head`);
  if (head.seq !== expected - 1n || head.hash !== prev) {
    return { ok: false, checked: rows.length, firstBadSeq: expected };
  }
  return { ok: true, checked: rows.length };
}

function auditHash(
  seq: bigint,
  timeMs: number,
  actor: string,
  action: string,
  subject: string,
  details: Record<string, unknown>,
  prev: string,
): string {
  const canonical = JSON.stringify([
    seq.toString(),
    timeMs,
    actor,
    action,
    subject,
    sortKeys(details),
    prev,
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

/** JSON with object keys sorted, so jsonb's reordering does not change the hash. */
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
