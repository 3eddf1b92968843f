import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import {
  type AuditEntry,
  AuditEntrySchema,
  type VerifyAuditLogResponse,
  VerifyAuditLogResponseSchema,
} from "../../gen/tronpay/v1/admin_pb.js";
import { AppError } from "../../shared/errors.js";
import { verifyAudit } from "../audit.js";

/** Reading and checking the audit log for AdminService. */

const ROW = z.object({
  seq: z.bigint(),
  time: z.number(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  details: z.unknown(),
  prev_hash: z.string(),
  hash: z.string(),
});

export interface AuditQuery {
  actor: string;
  /** Exact action, or a prefix ending in "." */
  action: string;
  subject: string;
  startMs?: number;
  endMs?: number;
  fromSeq: bigint;
  pageSize: number;
  pageToken: string;
}

/** One page of entries in ascending seq; the page token is the next seq to read. */
export async function queryAuditLog(
  db: CommonQueryMethods,
  q: AuditQuery,
): Promise<{ entries: AuditEntry[]; nextPageToken: string }> {
  const from = maxBigint(q.fromSeq, decodeSeqToken(q.pageToken));
  const where = [sql.fragment`seq >= ${from}`];
  if (q.actor !== "") where.push(sql.fragment`actor = ${q.actor}`);
  if (q.action.endsWith(".")) where.push(sql.fragment`starts_with(action, ${q.action})`);
  else if (q.action !== "") where.push(sql.fragment`action = ${q.action}`);
  if (q.subject !== "") where.push(sql.fragment`subject = ${q.subject}`);
  if (q.startMs !== undefined)
    where.push(sql.fragment`time >= ${sql.timestamp(new Date(q.startMs))}`);
  if (q.endMs !== undefined) where.push(sql.fragment`time < ${sql.timestamp(new Date(q.endMs))}`);
  const rows = await db.any(sql.type(ROW)`
    SELECT seq, time, actor, action, subject, details, prev_hash, hash FROM audit_log
    WHERE ${sql.join(where, sql.fragment` AND `)} ORDER BY seq LIMIT ${q.pageSize + 1}`);
  const next = rows[q.pageSize];
  return {
    entries: rows.slice(0, q.pageSize).map(toEntry),
    nextPageToken: next === undefined ? "" : Buffer.from(next.seq.toString()).toString("base64url"),
  };
}

/**
 * Verifies the chain and reports on [fromSeq, toSeq] (0 = 1 and the latest). The whole chain
 * from seq 1 is always checked, because an entry's link is only as trustworthy as every
 * entry before it; a break after toSeq is not reported.
 */
export async function verifyAuditRange(
  db: CommonQueryMethods,
  fromSeq: bigint,
  toSeq: bigint,
): Promise<VerifyAuditLogResponse> {
  const result = await verifyAudit(db);
  const headSeq = await db.oneFirst(
    sql.type(z.object({ seq: z.bigint() }))`SELECT seq FROM audit_head`,
  );
  const from = fromSeq === 0n ? 1n : fromSeq;
  const to = toSeq === 0n || toSeq > headSeq ? headSeq : toSeq;
  const bad = result.firstBadSeq;
  if (result.ok || bad === undefined || bad > to) {
    return create(VerifyAuditLogResponseSchema, {
      ok: true,
      entriesChecked: to >= from ? to - from + 1n : 0n,
      lastSeq: to >= from ? to : 0n,
      lastHash: to >= from ? await hashAt(db, to) : "",
    });
  }
  const lastGood = bad - 1n;
  return create(VerifyAuditLogResponseSchema, {
    ok: false,
    entriesChecked: lastGood >= from ? lastGood - from + 1n : 0n,
    firstBadSeq: bad,
    problem: await diagnose(db, bad),
    lastSeq: lastGood >= from ? lastGood : 0n,
    lastHash: lastGood >= from ? await hashAt(db, lastGood) : "",
  });
}

/** Names what is wrong at the first bad seq (verifyAudit says where, not what). */
async function diagnose(db: CommonQueryMethods, seq: bigint): Promise<string> {
  const row = await db.maybeOne(sql.type(ROW)`
    SELECT seq, time, actor, action, subject, details, prev_hash, hash FROM audit_log WHERE seq = ${seq}`);
  if (row === null) {
    const later = await db.exists(sql.type(z.object({ x: z.number() }))`
      SELECT 1 AS x FROM audit_log WHERE seq > ${seq}`);
    return later ? "seq_gap" : "head_mismatch";
  }
  const prev = seq === 1n ? "0".repeat(64) : await hashAt(db, seq - 1n);
  return row.prev_hash === prev ? "hash_mismatch" : "prev_hash_mismatch";
}

async function hashAt(db: CommonQueryMethods, seq: bigint): Promise<string> {
  const hash = await db.maybeOneFirst(sql.type(z.object({ hash: z.string() }))`
    SELECT hash FROM audit_log WHERE seq = ${seq}`);
  return hash ?? "";
}

function toEntry(r: z.infer<typeof ROW>): AuditEntry {
  return create(AuditEntrySchema, {
    seq: r.seq,
    time: timestampFromMs(r.time),
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    detailsJson: JSON.stringify(r.details),
    prevHash: r.prev_hash,
    hash: r.hash,
  });
}

function decodeSeqToken(token: string): bigint {
  if (token === "") return 0n;
  const text = Buffer.from(token, "base64url").toString();
  if (!/^[1-9]\d{0,18}$/.test(text)) {
    throw new AppError("request.invalid", "page_token is not valid", {
      metadata: { field: "page.page_token" },
    });
  }
  return BigInt(text);
}

function maxBigint(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
