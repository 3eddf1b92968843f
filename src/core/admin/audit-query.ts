import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import type { CommonQueryMethods, DatabasePool } from "slonik";
import type { SignerService } from "../../gen/tronpay/signer/v1/signer_pb.js";
import {
  type AuditEntry,
  AuditEntrySchema,
  type VerifyAuditLogResponse,
  VerifyAuditLogResponseSchema,
} from "../../gen/tronpay/v1/admin_pb.js";
import { AppError } from "../../shared/errors.js";
import type { ChainState } from "../kernel/audit-chain.js";
import { catchUpAudit, signerAnchor } from "../kernel/audit-job.js";
import { type AuditLogRow, queryAuditLogRows } from "../kernel/audit-repo.js";
import { type AuditAnchor, verifyAuditConsistent } from "../kernel/audit-verify.js";
import { decodePageToken } from "../kernel/page.js";

/** Reading and checking the audit log for AdminService. */

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
  const rows = await queryAuditLogRows(db, {
    fromSeq: from,
    actor: q.actor,
    action: q.action,
    subject: q.subject,
    startMs: q.startMs,
    endMs: q.endMs,
    limit: q.pageSize + 1,
  });
  const next = rows[q.pageSize];
  return {
    entries: rows.slice(0, q.pageSize).map(toEntry),
    nextPageToken: next === undefined ? "" : Buffer.from(next.seq.toString()).toString("base64url"),
  };
}

/**
 * Verifies the chain and reports on [fromSeq, toSeq] (0 = 1 and the latest). The whole chain
 * from seq 1 is always checked, because an entry's link is only as trustworthy as every
 * entry before it; a break after toSeq is not reported. Entries that committed before the call
 * are linked first. With a signer, the chain is held to its checkpoints, and what comes after
 * the last one is reported as unproven; without one nothing is proven.
 */
export async function verifyAuditRange(
  pool: DatabasePool,
  chain: ChainState,
  signer: Client<typeof SignerService> | undefined,
  fromSeq: bigint,
  toSeq: bigint,
): Promise<VerifyAuditLogResponse> {
  if (toSeq !== 0n && fromSeq > toSeq) {
    throw new AppError("request.invalid", "from_seq must not be above to_seq", {
      metadata: { field: "to_seq" },
    });
  }
  let anchor: AuditAnchor | undefined;
  if (signer !== undefined) {
    try {
      anchor = await signerAnchor(signer);
    } catch (cause) {
      throw new AppError("signer.unavailable", "the signer's audit checkpoints cannot be read", {
        cause,
      });
    }
  }
  await catchUpAudit(pool, chain);
  const from = fromSeq === 0n ? 1n : fromSeq;
  const r = await verifyAuditConsistent(pool, {
    anchor,
    fromSeq: from,
    toSeq: toSeq === 0n ? undefined : toSeq,
  });
  const inRange = r.lastSeq >= from;
  return create(VerifyAuditLogResponseSchema, {
    ok: r.ok,
    entriesChecked: BigInt(r.checked),
    firstBadSeq: r.firstBadSeq ?? 0n,
    problem: r.problem ?? "",
    lastSeq: inRange ? r.lastSeq : 0n,
    lastHash: inRange ? r.lastHash : "",
    provenSeq: r.provenSeq,
    provenAt: r.provenAtMs === undefined ? undefined : timestampFromMs(r.provenAtMs),
    unchainedEntries: BigInt(r.unchained),
    oldestUnchainedTime:
      r.oldestUnchainedMs === undefined ? undefined : timestampFromMs(r.oldestUnchainedMs),
    auditPublicKey: anchor === undefined ? "" : Buffer.from(anchor.publicKey).toString("hex"),
  });
}

function toEntry(r: AuditLogRow): AuditEntry {
  return create(AuditEntrySchema, {
    seq: r.seq,
    time: timestampFromMs(r.time),
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    detailsJson: JSON.stringify(r.details),
    // Empty until the chainer links the entry.
    prevHash: r.prev_hash ?? "",
    hash: r.hash ?? "",
  });
}

function decodeSeqToken(token: string): bigint {
  const parts = decodePageToken(token, /^([1-9]\d{0,18})$/);
  return parts ? BigInt(parts[0] ?? "0") : 0n;
}

function maxBigint(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
