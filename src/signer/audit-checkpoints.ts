import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  type AuditCheckpoint,
  checkpointMessage,
  checkpointValid,
  isChainHash,
} from "../shared/audit-checkpoint.js";
import { AppError } from "../shared/errors.js";
import { JournalCorruptError } from "./journal.js";

/**
 * The signer's journal of audit checkpoints it signed: one JSON line each, fsynced before the
 * checkpoint is returned, each line signed by the audit key. It is the anchor that outlives
 * the database: the signer never signs a head below (or differing from) its latest entry.
 */
export class CheckpointJournal {
  /** Every checkpoint, oldest first (one per checkpoint interval: small). */
  private readonly all: AuditCheckpoint[] = [];
  readonly publicKey: Uint8Array;

  private constructor(
    private readonly fd: number,
    private readonly secret: Uint8Array,
    private readonly clock: () => number,
  ) {
    this.publicKey = ed25519.getPublicKey(secret);
  }

  /**
   * Where a key's journal lives in `dir`: named after the public key, so a keystore whose seed
   * was replaced (restored into an empty keystore) starts its own journal instead of failing
   * to verify the old key's.
   */
  static pathFor(dir: string, secret: Uint8Array): string {
    const id = Buffer.from(ed25519.getPublicKey(secret)).toString("hex").slice(0, 16);
    return join(dir, `audit-checkpoints-${id}.log`);
  }

  /** Opens (or creates) the journal at `path` and checks every line; throws JournalCorruptError. */
  static open(path: string, secret: Uint8Array, clock: () => number = Date.now): CheckpointJournal {
    const text = existsSync(path) ? readFileSync(path, "utf8") : "";
    const journal = new CheckpointJournal(openSync(path, "a", 0o600), secret, clock);
    for (const [i, line] of text.split("\n").entries()) {
      if (line === "") continue;
      const c = parseLine(line);
      const prev = journal.all.at(-1);
      if (!c || !checkpointValid(c, journal.publicKey) || (prev && c.seq <= prev.seq)) {
        closeSync(journal.fd);
        throw new JournalCorruptError(`audit checkpoint journal line ${i + 1} does not verify`);
      }
      journal.all.push(c);
    }
    return journal;
  }

  /** The latest checkpoint signed, if any. */
  latest(): AuditCheckpoint | undefined {
    return this.all.at(-1);
  }

  /** Up to `limit` checkpoints with seq above `afterSeq`, in seq order. */
  list(afterSeq: bigint, limit: number): AuditCheckpoint[] {
    // Binary search: the first checkpoint above afterSeq.
    let lo = 0;
    let hi = this.all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.all[mid] as AuditCheckpoint).seq > afterSeq) hi = mid;
      else lo = mid + 1;
    }
    return this.all.slice(lo, lo + limit);
  }

  /**
   * Signs and journals (seq, hash), or returns the journaled checkpoint for the same pair.
   * Refuses a seq below the latest, or the latest seq with another hash.
   */
  sign(seq: bigint, hash: string): { checkpoint: AuditCheckpoint; reused: boolean } {
    if (seq < 1n) throw invalid("seq", "seq must be at least 1");
    if (!isChainHash(hash)) throw invalid("hash", "hash must be 64 lowercase hex characters");
    const latest = this.all.at(-1);
    if (latest && seq === latest.seq && hash === latest.hash) {
      return { checkpoint: latest, reused: true };
    }
    if (latest && seq <= latest.seq) {
      throw new AppError(
        "signer.audit_checkpoint_conflict",
        `a checkpoint at seq ${latest.seq} was signed; this head is below it or differs`,
        { metadata: { signed_seq: latest.seq.toString(), signed_hash: latest.hash } },
      );
    }
    const signedAtMs = Math.floor(this.clock());
    const signature = ed25519.sign(checkpointMessage(seq, hash, signedAtMs), this.secret);
    const checkpoint = { seq, hash, signedAtMs, signature };
    const line = JSON.stringify({
      seq: seq.toString(),
      hash,
      signedAtMs,
      signature: Buffer.from(signature).toString("hex"),
    });
    writeSync(this.fd, `${line}\n`);
    fdatasyncSync(this.fd);
    this.all.push(checkpoint);
    return { checkpoint, reused: false };
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Reads a journal file's checkpoints without the key (for `tronpay audit verify`). */
export function readCheckpointJournal(path: string): AuditCheckpoint[] {
  const out: AuditCheckpoint[] = [];
  for (const [i, line] of readFileSync(path, "utf8").split("\n").entries()) {
    if (line === "") continue;
    const c = parseLine(line);
    if (!c) throw new JournalCorruptError(`audit checkpoint journal line ${i + 1} does not parse`);
    out.push(c);
  }
  return out;
}

function parseLine(line: string): AuditCheckpoint | undefined {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    if (typeof v.seq !== "string" || !/^[1-9]\d{0,18}$/.test(v.seq)) return undefined;
    if (typeof v.hash !== "string" || typeof v.signature !== "string") return undefined;
    if (typeof v.signedAtMs !== "number" || !Number.isSafeInteger(v.signedAtMs)) return undefined;
    return {
      seq: BigInt(v.seq),
      hash: v.hash,
      signedAtMs: v.signedAtMs,
      signature: Buffer.from(v.signature, "hex"),
    };
  } catch {
    return undefined;
  }
}

function invalid(field: string, message: string): AppError {
  return new AppError("request.invalid", message, { metadata: { field } });
}
