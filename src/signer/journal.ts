import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fdatasync,
  ftruncateSync,
  openSync,
  readFileSync,
  write,
} from "node:fs";

/**
 * The signer's journal: one JSON line per signature, hash-chained, fsynced before the
 * signature is returned. Caps and the one-transaction-per-operation rule are computed from it,
 * so they survive restarts. Appends are grouped: every append waits for one shared fdatasync,
 * which is how the signer keeps thousands of signatures per second on one disk. The write and
 * the fdatasync run on libuv's thread pool, so a slow disk (an SD card) delays the answers that
 * wait for it but not the event loop: requests keep being decoded and checked meanwhile, and
 * join the next group.
 */

/** The file operations a flush uses; node:fs by default, replaceable to test slow disks. */
export interface JournalIo {
  write: typeof write;
  fdatasync: typeof fdatasync;
}

const NODE_IO: JournalIo = { write, fdatasync };

/** What one signature commits to. */
export interface JournalRecord {
  operationId: string;
  txId: string;
  /** Owner address, base58. */
  owner: string;
  /** SignIntent kind name, e.g. "USDT_TRANSFER". */
  kind: string;
  /** Base units moved by the transaction (0 for kinds that move nothing). */
  amount: bigint;
  /** Asset the amount counts: "TRX" or "USDT". */
  asset: string;
  /** Transaction expiration, ms since epoch (from raw_data). */
  expiration: number;
  /** Hex of the 65-byte signature; public once broadcast, and returned again on a repeat. */
  signature: string;
  /** The attempt this one replaces, if any. */
  previousTxId: string;
}

/** A record as stored: its sequence number, time and chain hashes. */
export interface JournalEntry extends JournalRecord {
  seq: number;
  /** ms since epoch when it was journaled. */
  time: number;
  prev: string;
  hash: string;
}

const GENESIS = "0".repeat(64);

/** Thrown when the journal on disk is not an unbroken chain. The signer refuses to start. */
export class JournalCorruptError extends Error {}

/** An open journal file. Not safe to share between processes. */
export class Journal {
  private readonly fd: number;
  private readonly byOperation = new Map<string, JournalEntry[]>();
  private readonly byTxId = new Map<string, JournalEntry>();
  /** Per owner and asset: times (clamped to never decrease) and running sums, for the caps. */
  private readonly sums = new Map<string, { times: number[]; totals: bigint[] }>();
  private lastHash = GENESIS;
  private nextSeq = 1;
  /** Lines appended in memory and not yet handed to a flush. */
  private pending: string[] = [];
  /** Highest seq known durable on disk (everything up to it is). */
  private durableSeq = 0;
  /** Waiting for durableSeq to reach their `seq`. */
  private waiters: { seq: number; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private flushing = false;
  private failed: unknown;

  private constructor(
    private readonly path: string,
    private readonly clock: () => number,
    private readonly onFailure: (err: unknown) => void,
    private readonly io: JournalIo,
  ) {
    this.fd = openSync(path, "a+", 0o600);
  }

  /**
   * Opens (or creates) the journal at `path`, verifies its chain and loads its index.
   * `onFailure` is called once if a write fails; the process should then exit.
   */
  static open(
    path: string,
    clock: () => number = Date.now,
    onFailure: (err: unknown) => void = () => {},
    io: JournalIo = NODE_IO,
  ): Journal {
    const journal = new Journal(path, clock, onFailure, io);
    journal.load();
    journal.durableSeq = journal.nextSeq - 1;
    return journal;
  }

  /** All entries journaled for an operation, oldest first. */
  entriesFor(operationId: string): readonly JournalEntry[] {
    return this.byOperation.get(operationId) ?? [];
  }

  /** The entry that signed `txId`, if any. */
  entryForTxId(txId: string): JournalEntry | undefined {
    return this.byTxId.get(txId);
  }

  /** Sum of amounts of `asset` signed for `owner` with time > since (O(log n)). */
  signedSince(owner: string, asset: string, since: number): bigint {
    const index = this.sums.get(`${owner}|${asset}`);
    if (!index) return 0n;
    const { times, totals } = index;
    // First position with time > since; everything from there on counts.
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((times[mid] as number) > since) hi = mid;
      else lo = mid + 1;
    }
    const total = totals.at(-1) ?? 0n;
    return lo === 0 ? total : total - (totals[lo - 1] as bigint);
  }

  /** Number of entries. */
  get size(): number {
    return this.nextSeq - 1;
  }

  /**
   * Records an entry in memory at once (so checks made in the same tick see it) and resolves
   * when it is durable on disk. If the disk write fails the journal is poisoned: every later
   * append throws that error, and the caller must exit (its in-memory state may be ahead of
   * the disk).
   */
  append(record: JournalRecord): { entry: JournalEntry; durable: Promise<void> } {
    if (this.failed) throw this.failed;
    const entry = this.chain(record, this.clock());
    this.index(entry);
    this.pending.push(`${serialize(entry)}\n`);
    const durable = this.durableThrough(entry.seq);
    this.scheduleFlush();
    return { entry, durable };
  }

  /**
   * Resolves when the entry with `seq` (and so every one before it) is durable: at once for an
   * entry loaded from disk or already flushed, else with the flush that writes it. A signature
   * found in memory is returned again only after this (it may still be on its way to disk).
   */
  durableThrough(seq: number): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (seq <= this.durableSeq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Resolves when every entry appended so far is durable (at once if nothing is pending). */
  sync(): Promise<void> {
    return this.durableThrough(this.nextSeq - 1);
  }

  /** Waits for pending writes, then closes the file. */
  async close(): Promise<void> {
    await this.sync().catch(() => {});
    while (this.flushing) await new Promise((r) => setTimeout(r, 1));
    closeSync(this.fd);
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    // setImmediate lets every request decoded in this turn of the event loop join the batch.
    setImmediate(() => this.flush());
  }

  /** One group: write every pending line, fdatasync once, then release the entries it holds. */
  private flush(): void {
    const lines = this.pending;
    const through = this.nextSeq - 1;
    this.pending = [];
    const buf = Buffer.from(lines.join(""));
    const fail = (err: unknown) => {
      this.failed = err;
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.reject(err);
      this.flushing = false;
      this.onFailure(err);
    };
    const synced = (err: NodeJS.ErrnoException | null) => {
      if (err) return fail(err);
      this.durableSeq = through;
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) {
        if (w.seq <= through) w.resolve();
        else this.waiters.push(w);
      }
      this.flushing = false;
      if (this.pending.length > 0) this.scheduleFlush();
    };
    const written = (off: number) => (err: NodeJS.ErrnoException | null, n: number) => {
      if (err) return fail(err);
      if (off + n < buf.length)
        return this.io.write(this.fd, buf, off + n, buf.length - off - n, null, written(off + n));
      this.io.fdatasync(this.fd, synced);
    };
    this.io.write(this.fd, buf, 0, buf.length, null, written(0));
  }

  private chain(record: JournalRecord, time: number): JournalEntry {
    const base = { ...record, seq: this.nextSeq, time, prev: this.lastHash };
    const hash = hashOf(base);
    this.lastHash = hash;
    this.nextSeq++;
    return { ...base, hash };
  }

  private index(entry: JournalEntry): void {
    const list = this.byOperation.get(entry.operationId);
    if (list) list.push(entry);
    else this.byOperation.set(entry.operationId, [entry]);
    this.byTxId.set(entry.txId, entry);
    const key = `${entry.owner}|${entry.asset}`;
    let index = this.sums.get(key);
    if (!index) {
      index = { times: [], totals: [] };
      this.sums.set(key, index);
    }
    // A clock that steps back must not hide spending from the window: clamp to the last time.
    index.times.push(Math.max(entry.time, index.times.at(-1) ?? entry.time));
    index.totals.push((index.totals.at(-1) ?? 0n) + entry.amount);
  }

  private load(): void {
    if (!existsSync(this.path)) return;
    const text = readFileSync(this.path, "utf8");
    const lines = text.split("\n");
    const tail = lines.pop() ?? "";
    // A crash can leave a torn last line: it was never fsynced, so never answered. Drop it.
    if (tail !== "") ftruncateSync(this.fd, Buffer.byteLength(text) - Buffer.byteLength(tail));
    for (const [i, line] of lines.entries()) {
      const entry = parse(line, i + 1);
      if (entry.seq !== this.nextSeq || entry.prev !== this.lastHash) {
        throw new JournalCorruptError(`journal line ${i + 1}: chain broken`);
      }
      const { hash, ...base } = entry;
      if (hashOf(base) !== hash)
        throw new JournalCorruptError(`journal line ${i + 1}: hash mismatch`);
      this.lastHash = hash;
      this.nextSeq++;
      this.index(entry);
    }
  }
}

function serialize(entry: JournalEntry): string {
  return JSON.stringify(entry, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

function hashOf(base: Omit<JournalEntry, "hash">): string {
  const canonical = [
    base.seq,
    base.time,
    base.prev,
    base.operationId,
    base.txId,
    base.owner,
    base.kind,
    base.asset,
    base.amount.toString(),
    base.expiration,
    base.signature,
    base.previousTxId,
  ];
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

function parse(line: string, lineNo: number): JournalEntry {
  try {
    const raw = JSON.parse(line) as Record<string, unknown>;
    return { ...(raw as unknown as JournalEntry), amount: BigInt(raw.amount as string) };
  } catch (cause) {
    throw new JournalCorruptError(`journal line ${lineNo}: unreadable`, { cause });
  }
}
