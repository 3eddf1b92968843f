import {
  appendFileSync,
  fdatasync,
  mkdtempSync,
  readFileSync,
  write,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Journal, JournalCorruptError, type JournalIo, type JournalRecord } from "./journal.js";

function tempPath(): string {
  return join(mkdtempSync(join(tmpdir(), "tp-journal-")), "journal.log");
}

function record(i: number, over: Partial<JournalRecord> = {}): JournalRecord {
  return {
    operationId: `op-${i}`,
    txId: i.toString(16).padStart(64, "0"),
    owner: "TOwner",
    kind: "TRX_TRANSFER",
    amount: BigInt(i) * 1_000_000n,
    asset: "TRX",
    expiration: 1_700_000_060_000,
    signature: "ab".repeat(65),
    previousTxId: "",
    ...over,
  };
}

/**
 * The real node:fs operations, except that each fdatasync is held until the test releases it:
 * a disk as slow as the test wants. The data still reaches the file for real.
 */
function slowDisk() {
  const held: (() => void)[] = [];
  let syncs = 0;
  let fail: NodeJS.ErrnoException | undefined;
  const io: JournalIo = {
    write,
    fdatasync: ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      syncs++;
      held.push(() => (fail ? cb(fail) : fdatasync(fd, cb)));
    }) as typeof fdatasync,
  };
  const settled = async (p: Promise<unknown>) => {
    let state = "pending";
    p.then(
      () => {
        state = "resolved";
      },
      () => {
        state = "rejected";
      },
    );
    await new Promise((r) => setTimeout(r, 5));
    return state;
  };
  return {
    io,
    /** Lets the oldest held fdatasync run. */
    release: () => held.shift()?.(),
    held: () => held.length,
    syncs: () => syncs,
    failWith: (err: NodeJS.ErrnoException) => {
      fail = err;
    },
    settled,
  };
}

/** Resolves once a held fdatasync is waiting (the flush got that far on the thread pool). */
async function untilHeld(disk: ReturnType<typeof slowDisk>, count = 1): Promise<void> {
  while (disk.held() < count) await new Promise((r) => setTimeout(r, 1));
}

describe("Journal", () => {
  it("makes appends durable and reloads them with their index after a reopen", async () => {
    const path = tempPath();
    const j = Journal.open(path);
    const results = [1, 2, 3].map((i) => j.append(record(i)));
    await Promise.all(results.map((r) => r.durable));
    expect(results.map((r) => r.entry.seq)).toEqual([1, 2, 3]);
    await j.close();

    const again = Journal.open(path);
    expect(again.size).toBe(3);
    expect(again.entriesFor("op-2")[0]?.txId).toBe(record(2).txId);
    expect(again.entryForTxId(record(3).txId)?.amount).toBe(3_000_000n);
    const next = again.append(record(4));
    await next.durable;
    expect(next.entry.seq).toBe(4);
    expect(next.entry.prev).toBe(again.entriesFor("op-3")[0]?.hash);
  });

  it("groups concurrent appends into few fsyncs and keeps every one", async () => {
    const path = tempPath();
    const j = Journal.open(path);
    const all = Array.from({ length: 500 }, (_, i) => j.append(record(i + 1)));
    await Promise.all(all.map((r) => r.durable));
    await j.close();
    expect(readFileSync(path, "utf8").trim().split("\n")).toHaveLength(500);
  });

  it("sums a key's signed amounts over a rolling window", async () => {
    let now = 1_000_000_000;
    const j = Journal.open(tempPath(), () => now);
    await j.append(record(1)).durable;
    now += 3_600_000;
    await j.append(record(2)).durable;
    await j.append(record(3, { owner: "TOther" })).durable;
    await j.append(record(4, { asset: "USDT" })).durable;
    expect(j.signedSince("TOwner", "TRX", now - 24 * 3_600_000)).toBe(3_000_000n);
    expect(j.signedSince("TOwner", "TRX", now - 1_800_000)).toBe(2_000_000n);
    expect(j.signedSince("TOwner", "USDT", 0)).toBe(4_000_000n);
  });

  it("drops a torn last line left by a crash and keeps the chain", async () => {
    const path = tempPath();
    const j = Journal.open(path);
    await j.append(record(1)).durable;
    await j.close();
    appendFileSync(path, '{"seq":2,"operationId":"op-2","tx');
    const again = Journal.open(path);
    expect(again.size).toBe(1);
    await again.append(record(2)).durable;
    await again.close();
    expect(Journal.open(path).size).toBe(2);
  });

  it("refuses to open a journal whose entry was altered", async () => {
    const path = tempPath();
    const j = Journal.open(path);
    await Promise.all([1, 2, 3].map((i) => j.append(record(i)).durable));
    await j.close();
    writeFileSync(
      path,
      readFileSync(path, "utf8").replace('"amount":"2000000"', '"amount":"9000000"'),
    );
    expect(() => Journal.open(path)).toThrow(JournalCorruptError);
  });

  it("refuses to open a journal with a deleted entry", async () => {
    const path = tempPath();
    const j = Journal.open(path);
    await Promise.all([1, 2, 3].map((i) => j.append(record(i)).durable));
    await j.close();
    const lines = readFileSync(path, "utf8").split("\n");
    writeFileSync(path, [lines[0], lines[2], ""].join("\n"));
    expect(() => Journal.open(path)).toThrow(/chain broken/);
  });

  it("keeps the event loop running while the disk syncs, and answers only after the fdatasync", async () => {
    const disk = slowDisk();
    const j = Journal.open(tempPath(), Date.now, () => {}, disk.io);
    const first = j.append(record(1));
    await untilHeld(disk);
    // Timers fire while the fdatasync is outstanding: the event loop is not blocked by it.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await new Promise((r) => setTimeout(r, 20));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    expect(await disk.settled(first.durable)).toBe("pending");
    // Appended while the first group is on its way to disk: the next group, its own fdatasync.
    const second = j.append(record(2));
    expect(j.entryForTxId(record(2).txId)?.seq).toBe(2);
    const all = j.sync();
    disk.release();
    await first.durable;
    expect(await disk.settled(second.durable)).toBe("pending");
    expect(await disk.settled(all)).toBe("pending");
    await untilHeld(disk);
    disk.release();
    await Promise.all([second.durable, all]);
    expect(disk.syncs()).toBe(2);
    await j.close();
  });

  it("holds an entry found in memory until its group is durable", async () => {
    const disk = slowDisk();
    const j = Journal.open(tempPath(), Date.now, () => {}, disk.io);
    const { entry } = j.append(record(1));
    await untilHeld(disk);
    const again = j.durableThrough(entry.seq);
    expect(await disk.settled(again)).toBe("pending");
    disk.release();
    await again;
    expect(await disk.settled(j.durableThrough(entry.seq))).toBe("resolved");
    await j.close();
  });

  it("groups every append made in one turn into one fdatasync", async () => {
    const disk = slowDisk();
    const path = tempPath();
    const j = Journal.open(path, Date.now, () => {}, disk.io);
    const all = Array.from({ length: 64 }, (_, i) => j.append(record(i + 1)).durable);
    await untilHeld(disk);
    disk.release();
    await Promise.all(all);
    expect(disk.syncs()).toBe(1);
    await j.close();
    expect(Journal.open(path).size).toBe(64);
  });

  it("fails every waiting append when the fdatasync fails, and refuses later ones", async () => {
    const disk = slowDisk();
    const failures: unknown[] = [];
    const j = Journal.open(tempPath(), Date.now, (err) => failures.push(err), disk.io);
    const first = j.append(record(1));
    await untilHeld(disk);
    const second = j.append(record(2));
    const eio = Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
    disk.failWith(eio);
    disk.release();
    const states = [disk.settled(first.durable), disk.settled(second.durable)];
    expect(await Promise.all(states)).toEqual(["rejected", "rejected"]);
    expect(failures).toEqual([eio]);
    expect(() => j.append(record(3))).toThrow(eio);
    expect(await disk.settled(j.sync())).toBe("rejected");
  });
});
