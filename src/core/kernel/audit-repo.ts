import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type CommonQueryMethods, type FragmentSqlToken, sql } from "slonik";
import { z } from "zod";
import type { AuditCheckpoint as SignedCheckpoint } from "../../gen/tronpay/signer/v1/signer_pb.js";

/** The audit tables: audit_log (entries), audit_head (the chain's end), audit_checkpoints. */

/** An entry to append (audit.ts explains the log). */
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

/** The columns HashedRow is read from: what an entry's hash covers (audit.ts, HashedEntry). */
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

/** An audit_log row: what its hash covers, and its links (null until the chainer sets them). */
export const AuditLogRow = HashedRow.extend({
  prev_hash: z.string().nullable(),
  hash: z.string().nullable(),
});
export type AuditLogRow = z.infer<typeof AuditLogRow>;

const LOG_COLUMNS = sql.fragment`${HASHED_COLUMNS}, prev_hash, hash`;

/** Entries in seq order after `after` up to `toSeq`, at most `limit`. */
export async function auditLogPage(
  db: CommonQueryMethods,
  after: bigint,
  toSeq: bigint,
  limit: number,
): Promise<readonly AuditLogRow[]> {
  return db.any(sql.type(AuditLogRow)`
    SELECT ${LOG_COLUMNS} FROM audit_log
    WHERE seq > ${after} AND seq <= ${toSeq} ORDER BY seq LIMIT ${limit}`);
}

/** What QueryAuditLog filters on (see admin/audit-query.ts). */
export interface AuditLogFilter {
  fromSeq: bigint;
  actor: string;
  /** Exact action, or a prefix ending in "." */
  action: string;
  subject: string;
  startMs?: number;
  endMs?: number;
  limit: number;
}

/** Entries matching the filter in ascending seq, at most `limit`. */
export async function queryAuditLogRows(
  db: CommonQueryMethods,
  q: AuditLogFilter,
): Promise<readonly AuditLogRow[]> {
  const where: FragmentSqlToken[] = [sql.fragment`seq >= ${q.fromSeq}`];
  if (q.actor !== "") where.push(sql.fragment`actor = ${q.actor}`);
  if (q.action.endsWith(".")) where.push(sql.fragment`starts_with(action, ${q.action})`);
  else if (q.action !== "") where.push(sql.fragment`action = ${q.action}`);
  if (q.subject !== "") where.push(sql.fragment`subject = ${q.subject}`);
  if (q.startMs !== undefined)
    where.push(sql.fragment`time >= ${sql.timestamp(new Date(q.startMs))}`);
  if (q.endMs !== undefined) where.push(sql.fragment`time < ${sql.timestamp(new Date(q.endMs))}`);
  return db.any(sql.type(AuditLogRow)`
    SELECT ${LOG_COLUMNS} FROM audit_log
    WHERE ${sql.join(where, sql.fragment` AND `)} ORDER BY seq LIMIT ${q.limit}`);
}

/** Up to `limit` unlinked entries after `afterSeq` and at or below `settled`, in seq order. */
export async function unlinkedAuditRows(
  tx: CommonQueryMethods,
  afterSeq: bigint,
  settled: bigint,
  limit: number,
): Promise<readonly z.infer<typeof HashedRow>[]> {
  return tx.any(sql.type(HashedRow)`
    SELECT ${HASHED_COLUMNS} FROM audit_log
    WHERE hash IS NULL AND seq > ${afterSeq} AND seq <= ${settled}
    ORDER BY seq LIMIT ${limit}`);
}

/** Sets prev_hash and hash of still unlinked entries: seqs[i] gets prevs[i] and hashes[i]. */
export async function linkAuditRows(
  tx: CommonQueryMethods,
  seqs: bigint[],
  prevs: string[],
  hashes: string[],
): Promise<void> {
  await tx.query(sql.unsafe`
    UPDATE audit_log AS a SET prev_hash = u.prev, hash = u.hash
    FROM unnest(${sql.array(seqs, "int8")}, ${sql.array(prevs, "text")}, ${sql.array(hashes, "text")})
      AS u(seq, prev, hash)
    WHERE a.seq = u.seq AND a.hash IS NULL`);
}

/** The last seq number handed out (0 before the first), read as it is now, not as of a snapshot. */
export async function lastAllocatedAuditSeq(db: CommonQueryMethods): Promise<bigint> {
  return db.oneFirst(sql.type(z.object({ n: z.bigint() }))`
    SELECT COALESCE(pg_sequence_last_value('audit_log_seq'), 0) AS n`);
}

/**
 * The last seq number handed out, then the xmin and xmax of a snapshot taken after it (two
 * statements in that order; outside a transaction the session holds no transaction id).
 */
export async function auditSeqSnapshot(
  db: CommonQueryMethods,
): Promise<{ allocated: bigint; xmin: bigint; xmax: bigint }> {
  const allocated = await lastAllocatedAuditSeq(db);
  return db.one(sql.type(z.object({ allocated: z.bigint(), xmin: z.bigint(), xmax: z.bigint() }))`
    SELECT ${allocated}::bigint AS allocated, pg_snapshot_xmin(s)::text::bigint AS xmin,
           pg_snapshot_xmax(s)::text::bigint AS xmax
    FROM pg_current_snapshot() AS s`);
}

/** The chain's end: the last linked seq and its hash (0 and the genesis hash at first). */
const AuditHead = z.object({ seq: z.bigint(), hash: z.string() });
export type AuditHead = z.infer<typeof AuditHead>;

/** The chain's end; with forUpdate locked until the transaction ends. */
export async function auditHead(db: CommonQueryMethods, forUpdate = false): Promise<AuditHead> {
  const lock = forUpdate ? sql.fragment`FOR UPDATE` : sql.fragment``;
  return db.one(sql.type(AuditHead)`SELECT seq, hash FROM audit_head ${lock}`);
}

/** Moves the chain's end. */
export async function setAuditHead(tx: CommonQueryMethods, head: AuditHead): Promise<void> {
  await tx.query(sql.unsafe`UPDATE audit_head SET seq = ${head.seq}, hash = ${head.hash}`);
}

/** An audit_checkpoints row: a chain head signed by the signer's audit key. */
export const CheckpointRow = z.object({
  seq: z.bigint(),
  hash: z.string(),
  signed_at: z.number(),
  signature: z.string(),
  public_key: z.string(),
});
export type CheckpointRow = z.infer<typeof CheckpointRow>;

/** The highest seq a stored checkpoint covers (0 when there is none). */
export async function latestCheckpointSeq(db: CommonQueryMethods): Promise<bigint> {
  return db.oneFirst(sql.type(z.object({ seq: z.bigint() }))`
    SELECT COALESCE(max(seq), 0) AS seq FROM audit_checkpoints`);
}

/** Stores a checkpoint the signer signed with `publicKey` (once per seq). */
export async function insertCheckpoint(
  db: CommonQueryMethods,
  c: SignedCheckpoint & { signedAt: NonNullable<SignedCheckpoint["signedAt"]> },
  publicKey: Uint8Array,
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO audit_checkpoints (seq, hash, signed_at, signature, public_key)
    VALUES (${c.seq}, ${c.hash},
            'epoch'::timestamptz + ${timestampMs(c.signedAt)} * interval '1 millisecond',
            ${Buffer.from(c.signature).toString("hex")}, ${Buffer.from(publicKey).toString("hex")})
    ON CONFLICT (seq) DO NOTHING`);
}

/** Checkpoints of key `publicKeyHex` in seq order after `after` up to `toSeq`, at most `limit`. */
export async function checkpointPage(
  db: CommonQueryMethods,
  publicKeyHex: string,
  after: bigint,
  toSeq: bigint,
  limit: number,
): Promise<readonly CheckpointRow[]> {
  return db.any(sql.type(CheckpointRow)`
    SELECT seq, hash, signed_at, signature, public_key FROM audit_checkpoints
    WHERE seq > ${after} AND seq <= ${toSeq} AND public_key = ${publicKeyHex}
    ORDER BY seq LIMIT ${limit}`);
}

/** Makes the current transaction a read-only REPEATABLE READ one (its first statement). */
export async function repeatableReadOnly(tx: CommonQueryMethods): Promise<void> {
  await tx.query(sql.unsafe`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
}
