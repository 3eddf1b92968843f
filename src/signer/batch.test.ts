import { fdatasync, write } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAddress, toBase58 } from "../shared/address.js";
import { AppError } from "../shared/errors.js";
import { recoverSigner } from "../tron/signature.js";
import { newAccount } from "../tron/testing.js";
import { txIdOf } from "../tron/transaction.js";
import { type BatchItem, type SignResult, signTransaction, signTransactions } from "./flows.js";
import { Journal } from "./journal.js";
import { intent, rawBytes, testPolicy, testSigner } from "./testing.js";

const T0 = 1_800_000_000_000;

/** What a caller learns from one answer, comparable between the single and the batch path. */
function outcome(r: SignResult | AppError) {
  return r instanceof AppError
    ? { reason: r.reason, metadata: r.metadata }
    : { txId: r.txId, seq: r.journalSeq, reused: r.reused };
}

/**
 * A signer whose journal counts its fdatasync calls (real node:fs underneath), and a sequence
 * of requests that exercises every idempotency rule: a first signature, the same transaction
 * again, another transaction for the same operation, the same transaction for another
 * operation, a cap overrun, bytes that do not decode, a key the signer does not hold, and an
 * invalid intent.
 */
async function scenario() {
  const now = { value: T0 };
  const signer = await testSigner(now, testPolicy({ maxPer24h: { TRX: 3_000_000n, USDT: 0n } }));
  let syncs = 0;
  signer.deps.journal = Journal.open(join(signer.dir, "counted.log"), () => now.value, undefined, {
    write,
    fdatasync: ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      syncs++;
      fdatasync(fd, cb);
    }) as typeof fdatasync,
  });
  const { owner } = signer;
  const to = toBase58(newAccount().address);
  const transfer = (amount: bigint, t: number) =>
    rawBytes(
      { type: "TransferContract", owner: parseAddress(owner), to: parseAddress(to), amount },
      t,
    );
  const item = (op: string, amount: bigint, raw: Uint8Array): BatchItem => ({
    intent: intent({ owner, counterparty: to, operationId: op, amount }),
    rawData: raw,
  });
  const first = transfer(1_000_000n, T0);
  const stranger = toBase58(newAccount().address);
  const items: BatchItem[] = [
    item("op-a", 1_000_000n, first),
    item("op-a", 1_000_000n, first),
    item("op-a", 1_000_000n, transfer(1_000_000n, T0 + 1)),
    item("op-b", 1_000_000n, first),
    item("op-c", 2_000_000n, transfer(2_000_000n, T0 + 2)),
    item("op-d", 1_500_000n, transfer(1_500_000n, T0 + 3)),
    item("op-e", 1_000_000n, first.subarray(0, first.length - 3)),
    {
      intent: intent({ owner: stranger, counterparty: to, operationId: "op-f" }),
      rawData: rawBytes(
        {
          type: "TransferContract",
          owner: parseAddress(stranger),
          to: parseAddress(to),
          amount: 1_000_000n,
        },
        T0,
      ),
    },
    {
      refused: new AppError("request.invalid", "intent is required", {
        metadata: { field: "intent" },
      }),
    },
  ];
  return { ...signer, items, syncs: () => syncs, first };
}

/** The same requests one SignTransaction call at a time, as core sends them today. */
async function oneByOne(s: Awaited<ReturnType<typeof scenario>>) {
  const out: (SignResult | AppError)[] = [];
  for (const it of s.items) {
    if ("refused" in it) {
      out.push(it.refused);
      continue;
    }
    try {
      out.push(await signTransaction(s.deps, it.intent, it.rawData, it.previousRaw));
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      out.push(err);
    }
  }
  return out;
}

describe("signTransactions (a batch)", () => {
  it("signs the good items, refuses the bad ones with their reasons, and journals each signature", async () => {
    const s = await scenario();
    const results = await signTransactions(s.deps, s.items);
    const reasons = results.map((r) => (r instanceof AppError ? r.reason : "signed"));
    expect(reasons).toEqual([
      "signed",
      "signed",
      "signer.replacement_refused",
      "signer.replacement_refused",
      "signed",
      "signer.policy_denied",
      "signer.malformed_transaction",
      "signer.unknown_key",
      "request.invalid",
    ]);
    const signed = results.filter((r): r is SignResult => !(r instanceof AppError));
    for (const r of signed) expect(toBase58(recoverSigner(r.txId, r.signature))).toBe(s.owner);
    expect(results[0]).toMatchObject({ reused: false, txId: txIdOf(s.first) });
    expect(results[1]).toMatchObject({ reused: true, txId: txIdOf(s.first) });
    // Two new signatures (op-a, op-c), each journaled once, both durable after the one call.
    expect(s.deps.journal.size).toBe(2);
    expect(s.deps.journal.entriesFor("op-a").map((e) => e.txId)).toEqual([txIdOf(s.first)]);
    expect(s.deps.journal.entriesFor("op-c")).toHaveLength(1);
    expect(s.deps.journal.entriesFor("op-b")).toEqual([]);
    expect(s.deps.journal.entriesFor("op-d")).toEqual([]);
    const reopened = Journal.open(join(s.dir, "counted.log"));
    expect(reopened.size).toBe(2);
    expect(reopened.entryForTxId((results[4] as SignResult).txId)?.operationId).toBe("op-c");
  });

  it("makes one call durable with one fdatasync", async () => {
    const s = await scenario();
    await signTransactions(s.deps, s.items);
    expect(s.syncs()).toBe(1);
  });

  it("answers every item exactly as the same calls to SignTransaction would, in order", async () => {
    const batch = await scenario();
    const single = await scenario();
    const viaBatch = (await signTransactions(batch.deps, batch.items)).map(outcome);
    const viaSingle = (await oneByOne(single)).map(outcome);
    // The two signers hold different keys, so txIDs differ: name each by first appearance.
    const named = (outcomes: ReturnType<typeof outcome>[]) => {
      const names = new Map<string, string>();
      const name = (v: string) =>
        /^[0-9a-f]{64}$/.test(v)
          ? (names.get(v) ?? names.set(v, `tx${names.size}`).get(v) ?? "")
          : v;
      return JSON.parse(JSON.stringify(outcomes), (_k, v) => (typeof v === "string" ? name(v) : v));
    };
    expect(named(viaBatch)).toEqual(named(viaSingle));
    const refused = viaBatch.filter((o) => "reason" in o);
    expect(refused.length).toBeGreaterThan(0);
  });

  it("returns the journaled signatures again when the whole batch is repeated", async () => {
    const s = await scenario();
    const first = await signTransactions(s.deps, s.items);
    const again = await signTransactions(s.deps, s.items);
    expect(s.deps.journal.size).toBe(2);
    for (const [i, r] of again.entries()) {
      const before = first[i] as SignResult | AppError;
      if (before instanceof AppError) {
        expect(r).toBeInstanceOf(AppError);
        continue;
      }
      expect(r).toMatchObject({ reused: true, txId: before.txId, journalSeq: before.journalSeq });
      expect(Buffer.from((r as SignResult).signature)).toEqual(Buffer.from(before.signature));
    }
  });
});
