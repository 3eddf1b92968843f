import type { CommonQueryMethods, DatabasePool, DatabasePoolConnection } from "slonik";
import { type AuditCheckpoint, checkpointValid } from "../../shared/audit-checkpoint.js";
import { entryHash, GENESIS_HASH } from "./audit.js";
import { auditHead, auditLogPage, checkpointPage, repeatableReadOnly } from "./audit-repo.js";

/**
 * Verifying the audit log: streams the chain in pages (never the whole log in memory),
 * recomputes every link, and checks it against checkpoints signed by the signer's audit key.
 * The database alone proves nothing against someone who can write it (they can rehash, cut
 * the tail, move audit_head); what a checkpoint covers is proven, what comes after is not.
 */

/** What verification trusts from outside the database. */
export interface AuditAnchor {
  /** The signer's Ed25519 audit public key. */
  publicKey: Uint8Array;
  /**
   * Every checkpoint the signer journaled, in seq order, read from the signer (or its journal
   * file), not the database. Without it only the database's signed checkpoints count, and
   * whoever deletes those can hide a cut tail or a rewrite.
   */
  checkpoints?: () => AsyncIterable<AuditCheckpoint>;
}

/** The outcome of a chain check. */
export interface AuditVerification {
  ok: boolean;
  /** Linked entries checked (with seq >= fromSeq) before the first problem. */
  checked: number;
  /** The last linked entry that verified, and its hash (0 and "" when none). */
  lastSeq: bigint;
  lastHash: string;
  firstBadSeq?: bigint;
  problem?: string;
  /** Highest seq a matching signed checkpoint covers (0: nothing is proven). */
  provenSeq: bigint;
  provenAtMs?: number;
  /** Committed entries not linked yet, and when the oldest was written. */
  unchained: number;
  oldestUnchainedMs?: number;
}

export interface VerifyOptions {
  anchor?: AuditAnchor;
  /** Count entries from here (the chain is always checked from its start). */
  fromSeq?: bigint;
  /** Stop after this seq; a problem after it is not reported. */
  toSeq?: bigint;
  pageSize?: number;
}

class Broken extends Error {
  constructor(
    readonly seq: bigint,
    readonly problem: string,
  ) {
    super(problem);
  }
}

/**
 * verifyAudit in one read-only REPEATABLE READ transaction, so that every page sees the same
 * state while the chainer keeps linking. It takes no transaction id, so it holds nothing back.
 */
export async function verifyAuditConsistent(
  db: DatabasePool | DatabasePoolConnection,
  opts: VerifyOptions = {},
): Promise<AuditVerification> {
  return db.transaction(async (tx) => {
    await repeatableReadOnly(tx);
    return verifyAudit(tx, opts);
  });
}

/** Walks the chain page by page and reports the first problem, what is proven and what waits. */
export async function verifyAudit(
  db: CommonQueryMethods,
  opts: VerifyOptions = {},
): Promise<AuditVerification> {
  const pageSize = opts.pageSize ?? 1000;
  const fromSeq = opts.fromSeq ?? 1n;
  const toSeq = opts.toSeq ?? 9_223_372_036_854_775_807n;
  const checkpoints = checkpointStream(db, opts.anchor, toSeq, pageSize);
  const out: AuditVerification = {
    ok: true,
    checked: 0,
    lastSeq: 0n,
    lastHash: "",
    provenSeq: 0n,
    unchained: 0,
  };
  let prev = GENESIS_HASH;
  let firstUnchained: bigint | undefined;
  try {
    let cp = await checkpoints.next();
    for await (const r of rowStream(db, toSeq, pageSize)) {
      if (r.hash === null) {
        firstUnchained ??= r.seq;
        out.unchained++;
        out.oldestUnchainedMs = Math.min(out.oldestUnchainedMs ?? r.time, r.time);
        continue;
      }
      if (firstUnchained !== undefined) throw new Broken(firstUnchained, "unchained_entry");
      if (!cp.done && cp.value.seq < r.seq) throw new Broken(cp.value.seq, "checkpoint_mismatch");
      if (r.prev_hash !== prev) throw new Broken(r.seq, "prev_hash_mismatch");
      const hashed = { ...r, timeUs: r.time_us, detailsText: r.details_text };
      if (entryHash(hashed, r.prev_hash) !== r.hash) throw new Broken(r.seq, "hash_mismatch");
      if (!cp.done && cp.value.seq === r.seq) {
        if (cp.value.hash !== r.hash) throw new Broken(r.seq, "checkpoint_mismatch");
        out.provenSeq = r.seq;
        out.provenAtMs = cp.value.signedAtMs;
        cp = await checkpoints.next();
      }
      prev = r.hash;
      out.lastSeq = r.seq;
      out.lastHash = r.hash;
      if (r.seq >= fromSeq) out.checked++;
    }
    // Entries a checkpoint signed that are not in the chain at all: the tail was cut.
    if (!cp.done) throw new Broken(out.lastSeq + 1n, "checkpoint_beyond_chain");
    if (opts.toSeq === undefined) await checkHead(db, out.lastSeq, prev);
  } catch (err) {
    if (!(err instanceof Broken)) throw err;
    out.ok = false;
    out.firstBadSeq = err.seq;
    out.problem = err.problem;
    if (out.provenSeq >= err.seq) out.provenSeq = 0n;
  }
  return out;
}

async function checkHead(db: CommonQueryMethods, lastSeq: bigint, lastHash: string) {
  const head = await auditHead(db);
  if (head.seq !== lastSeq || (lastSeq > 0n && head.hash !== lastHash)) {
    throw new Broken(lastSeq + 1n, "head_mismatch");
  }
}

/**
 * True when the chain runs unbroken from the entry at `from` (which must carry `from.hash`) to
 * the entry at `to`: every entry in between is linked, links to the one before it and
 * recomputes. Reads only that stretch, in pages.
 */
export async function chainExtends(
  db: CommonQueryMethods,
  from: { seq: bigint; hash: string },
  to: { seq: bigint; hash: string },
  pageSize = 1000,
): Promise<boolean> {
  let prev: string | undefined;
  let last: bigint | undefined;
  for await (const r of rowStream(db, to.seq, pageSize, from.seq - 1n)) {
    if (prev === undefined) {
      if (r.seq !== from.seq || r.hash !== from.hash) return false;
    } else {
      if (r.hash === null || r.prev_hash !== prev) return false;
      const hashed = { ...r, timeUs: r.time_us, detailsText: r.details_text };
      if (entryHash(hashed, prev) !== r.hash) return false;
    }
    prev = r.hash ?? undefined;
    last = r.seq;
  }
  return last === to.seq && prev === to.hash;
}

/** The audit log in seq order after `after`, one page per query. */
async function* rowStream(db: CommonQueryMethods, toSeq: bigint, pageSize: number, from = 0n) {
  let after = from;
  for (;;) {
    const page = await auditLogPage(db, after, toSeq, pageSize);
    yield* page;
    const last = page.at(-1);
    if (page.length < pageSize || last === undefined) return;
    after = last.seq;
  }
}

/**
 * The checkpoints to hold the chain to, in seq order: the database's merged with the
 * signer's, each with a valid signature by the anchor's key. Without an anchor there are none,
 * since a checkpoint the database vouches for proves nothing.
 */
async function* checkpointStream(
  db: CommonQueryMethods,
  anchor: AuditAnchor | undefined,
  toSeq: bigint,
  pageSize: number,
): AsyncGenerator<AuditCheckpoint> {
  if (anchor === undefined) return;
  const inside = storedCheckpoints(
    db,
    Buffer.from(anchor.publicKey).toString("hex"),
    toSeq,
    pageSize,
  );
  const outside = (anchor.checkpoints?.() ?? none())[Symbol.asyncIterator]();
  let a = await inside.next();
  let b = await outside.next();
  while (!a.done || !b.done) {
    let next: AuditCheckpoint;
    if (b.done || (!a.done && a.value.seq < b.value.seq)) {
      next = a.value as AuditCheckpoint;
      a = await inside.next();
    } else if (a.done || b.value.seq < a.value.seq) {
      next = b.value;
      b = await outside.next();
    } else {
      // Both hold this seq; the signer signed one hash per seq, so they must agree.
      if (a.value.hash !== b.value.hash) throw new Broken(b.value.seq, "checkpoint_mismatch");
      next = b.value;
      a = await inside.next();
      b = await outside.next();
    }
    if (next.seq > toSeq) return;
    if (!checkpointValid(next, anchor.publicKey)) {
      throw new Broken(next.seq, "checkpoint_bad_signature");
    }
    yield next;
  }
}

async function* none(): AsyncGenerator<AuditCheckpoint> {}

/**
 * audit_checkpoints by the anchor's key in seq order, one page per query. Rows of another key
 * (the seed was replaced) prove nothing and are passed over; a row claiming this key must
 * carry its valid signature.
 */
async function* storedCheckpoints(
  db: CommonQueryMethods,
  publicKeyHex: string,
  toSeq: bigint,
  pageSize: number,
): AsyncGenerator<AuditCheckpoint> {
  let after = 0n;
  for (;;) {
    const page = await checkpointPage(db, publicKeyHex, after, toSeq, pageSize);
    for (const s of page) {
      yield {
        seq: s.seq,
        hash: s.hash,
        signedAtMs: s.signed_at,
        signature: Buffer.from(s.signature, "hex"),
      };
    }
    const last = page.at(-1);
    if (page.length < pageSize || last === undefined) return;
    after = last.seq;
  }
}
