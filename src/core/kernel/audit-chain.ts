import type { Client } from "@connectrpc/connect";
import type { CommonQueryMethods, DatabasePool } from "slonik";
import type { SignerService } from "../../gen/tronpay/signer/v1/signer_pb.js";
import { advisoryUnlock, tryAdvisoryLock } from "../db/locks.js";
import { entryHash } from "./audit.js";
import {
  auditHead,
  auditSeqSnapshot,
  insertCheckpoint,
  latestCheckpointSeq,
  linkAuditRows,
  setAuditHead,
  unlinkedAuditRows,
} from "./audit-repo.js";
import { chainExtends } from "./audit-verify.js";

/**
 * The chainer: links committed audit entries into the hash chain, in seq order, after their
 * transactions commit. One replica at a time (an advisory lock only the chainer takes);
 * requests never wait for it.
 *
 * When is a seq settled (committed, or never going to be)? Entries commit out of seq order and
 * rolled-back transactions leave gaps, so "the visible entries so far" is not enough: an entry
 * with a lower seq may still commit after a higher one is visible. The rule: an appending
 * transaction takes its transaction id before its seq number (appendAudit). So when the chainer
 * reads the last number handed out (A) and then takes a snapshot S, every transaction holding
 * a number <= A has an id below S's xmax. Once a later snapshot's xmin reaches that xmax (or S
 * shows no transaction in flight at all), all of them have ended, and the entries <= A that are
 * visible are all there will ever be; the missing numbers are gaps. We chose this over
 * chaining by transaction id (pg_snapshot_xmin per row) so that the chain stays in seq order,
 * the order QueryAuditLog and every reader of audit_log use. A transaction that stays open
 * holds the chain back (never breaks it); verify reports how many entries wait.
 */

// Arbitrary constant: the advisory lock of the one chainer.
const CHAIN_LOCK = 7_242_005;

/** What the chainer remembers between passes (per process; a fresh one only waits a pass longer). */
export interface ChainState {
  /** Every seq up to this is settled. */
  settled: bigint;
  /** The last number handed out when `xmax` was read; settled once xmin reaches xmax. */
  mark?: { allocated: bigint; xmax: bigint };
}

export function newChainState(): ChainState {
  return { settled: 0n };
}

/**
 * One pass: links every settled, unlinked entry, in batches of `batch` per transaction.
 * Returns how many it linked, or undefined when another replica's chainer holds the lock.
 */
export async function chainAudit(
  pool: DatabasePool,
  state: ChainState,
  batch = 1000,
): Promise<number | undefined> {
  return pool.connect(async (conn) => {
    if (!(await tryAdvisoryLock(conn, CHAIN_LOCK))) return undefined;
    try {
      await advanceSettled(conn, state);
      let total = 0;
      for (;;) {
        const linked = await conn.transaction((tx) => linkBatch(tx, state.settled, batch));
        total += linked;
        if (linked < batch) return total;
      }
    } finally {
      await advisoryUnlock(conn, CHAIN_LOCK);
    }
  });
}

/** Moves state.settled forward as far as the snapshot rule allows (see the file comment). */
async function advanceSettled(conn: CommonQueryMethods, state: ChainState): Promise<void> {
  // One statement, outside a transaction, so this session holds no transaction id: the number
  // is read first (the sequence is read as it is now, not as of a snapshot), then the snapshot.
  const snap = await auditSeqSnapshot(conn);
  if (snap.xmin === snap.xmax) {
    // Nothing in flight: every number handed out before the snapshot is settled.
    if (snap.allocated > state.settled) state.settled = snap.allocated;
    state.mark = undefined;
    return;
  }
  if (state.mark && snap.xmin >= state.mark.xmax) {
    if (state.mark.allocated > state.settled) state.settled = state.mark.allocated;
    state.mark = undefined;
  }
  state.mark ??= { allocated: snap.allocated, xmax: snap.xmax };
}

/** Links up to `batch` unlinked entries after the head, all at or below `settled`. */
async function linkBatch(tx: CommonQueryMethods, settled: bigint, batch: number): Promise<number> {
  const head = await auditHead(tx, true);
  const rows = await unlinkedAuditRows(tx, head.seq, settled, batch);
  if (rows.length === 0) return 0;
  const seqs: bigint[] = [];
  const prevs: string[] = [];
  const hashes: string[] = [];
  let prev = head.hash;
  for (const r of rows) {
    const hash = entryHash({ ...r, timeUs: r.time_us, detailsText: r.details_text }, prev);
    seqs.push(r.seq);
    prevs.push(prev);
    hashes.push(hash);
    prev = hash;
  }
  await linkAuditRows(tx, seqs, prevs, hashes);
  await setAuditHead(tx, { seq: seqs.at(-1) as bigint, hash: prev });
  return rows.length;
}

/**
 * Has the signer sign the chain head unless the latest checkpoint already covers it, and
 * stores the checkpoint. Returns the seq signed, or undefined when there was nothing new or
 * another replica's chainer holds the lock. It holds the chainer's lock, so the head cannot
 * move while the signer signs it (two replicas sharing a signer never race it backwards). The
 * signer refuses a head below one it signed (signer.audit_checkpoint_conflict), so a
 * database whose chain was cut back stops getting checkpoints.
 */
export async function checkpointAudit(
  pool: DatabasePool,
  signer: Client<typeof SignerService>,
): Promise<bigint | undefined> {
  return pool.connect(async (conn) => {
    if (!(await tryAdvisoryLock(conn, CHAIN_LOCK))) return undefined;
    try {
      return await signHead(conn, signer);
    } finally {
      await advisoryUnlock(conn, CHAIN_LOCK);
    }
  });
}

async function signHead(
  db: CommonQueryMethods,
  signer: Client<typeof SignerService>,
): Promise<bigint | undefined> {
  const head = await auditHead(db);
  if (head.seq === 0n) return undefined;
  const latest = await latestCheckpointSeq(db);
  if (latest >= head.seq) return undefined;
  // Only a head that extends what the signer signed last is sent: a chain rewritten before
  // that checkpoint gets no new one. (A head below it is sent, and the signer refuses it.)
  const [signed] = (await signer.listAuditCheckpoints({ latestOnly: true })).checkpoints;
  if (signed !== undefined && signed.seq < head.seq && !(await chainExtends(db, signed, head))) {
    throw new Error(
      `the audit chain from seq ${signed.seq} does not extend the signer's last checkpoint; not signing seq ${head.seq}`,
    );
  }
  const res = await signer.signAuditCheckpoint({ seq: head.seq, hash: head.hash });
  const c = res.checkpoint;
  if (!c?.signedAt) throw new Error("the signer answered a checkpoint without its fields");
  await insertCheckpoint(db, { ...c, signedAt: c.signedAt }, res.publicKey);
  return c.seq;
}
