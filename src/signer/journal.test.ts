import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Journal, JournalCorruptError, type JournalRecord } from "./journal.js";

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
});
