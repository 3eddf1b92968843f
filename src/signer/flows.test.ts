import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAddress, toBase58 } from "../shared/address.js";
import { AppError } from "../shared/errors.js";
import { recoverSigner } from "../tron/signature.js";
import { newAccount } from "../tron/testing.js";
import { txIdOf } from "../tron/transaction.js";
import { encodeApprove, encodeTransfer } from "../tron/trc20.js";
import { signTransaction } from "./flows.js";
import { Journal } from "./journal.js";
import { intent, rawBytes, testPolicy, testSigner, usdt } from "./testing.js";

const T0 = 1_800_000_000_000;

async function refusal(
  p: Promise<unknown>,
): Promise<{ reason: string; meta: Record<string, string> }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return { reason: err.reason, meta: err.metadata };
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("signTransaction", () => {
  it("signs a TRX transfer whose signature recovers to the owner, and journals it", async () => {
    const now = { value: T0 };
    const { deps, owner } = await testSigner(now);
    const to = newAccount().address;
    const raw = rawBytes(
      { type: "TransferContract", owner: parseAddress(owner), to, amount: 1_000_000n },
      T0,
    );
    const result = await signTransaction(deps, intent({ owner, counterparty: toBase58(to) }), raw);
    expect(result.txId).toBe(txIdOf(raw));
    expect(toBase58(recoverSigner(result.txId, result.signature))).toBe(owner);
    expect(result.reused).toBe(false);
    expect(deps.journal.size).toBe(1);
  });

  it("signs a USDT transfer to the configured contract", async () => {
    const now = { value: T0 };
    const { deps, owner } = await testSigner(now);
    const to = newAccount().address;
    const raw = rawBytes(
      {
        type: "TriggerSmartContract",
        owner: parseAddress(owner),
        contract: parseAddress(usdt),
        callValue: 0n,
        data: encodeTransfer(to, 5_000_000n),
        callTokenValue: 0n,
        tokenId: 0n,
      },
      T0,
      { feeLimit: 30_000_000n },
    );
    const i = intent({
      owner,
      counterparty: toBase58(to),
      kind: "USDT_TRANSFER",
      asset: "USDT",
      amount: 5_000_000n,
    });
    const result = await signTransaction(deps, i, raw);
    expect(toBase58(recoverSigner(result.txId, result.signature))).toBe(owner);
  });

  it("returns the same signature when the same transaction is asked again", async () => {
    const now = { value: T0 };
    const { deps, owner } = await testSigner(now);
    const to = toBase58(newAccount().address);
    const raw = rawBytes(
      {
        type: "TransferContract",
        owner: parseAddress(owner),
        to: parseAddress(to),
        amount: 1_000_000n,
      },
      T0,
    );
    const first = await signTransaction(deps, intent({ owner, counterparty: to }), raw);
    const again = await signTransaction(deps, intent({ owner, counterparty: to }), raw);
    expect(again.reused).toBe(true);
    expect(Buffer.from(again.signature).toString("hex")).toBe(
      Buffer.from(first.signature).toString("hex"),
    );
    expect(deps.journal.size).toBe(1);
  });

  it("refuses a second transaction for one operation until the first has provably expired", async () => {
    const now = { value: T0 };
    const { deps, owner } = await testSigner(now);
    const to = toBase58(newAccount().address);
    const build = (t: number) =>
      rawBytes(
        {
          type: "TransferContract",
          owner: parseAddress(owner),
          to: parseAddress(to),
          amount: 1_000_000n,
        },
        t,
      );
    const first = await signTransaction(deps, intent({ owner, counterparty: to }), build(T0));

    now.value = T0 + 1_000;
    expect(
      (await refusal(signTransaction(deps, intent({ owner, counterparty: to }), build(now.value))))
        .reason,
    ).toBe("signer.replacement_refused");
    const named = intent({ owner, counterparty: to, previousTxId: first.txId });
    expect((await refusal(signTransaction(deps, named, build(now.value)))).reason).toBe(
      "signer.replacement_refused",
    );

    // Past expiration (T0 + 60 s) plus the 120 s margin: the first can never be included.
    now.value = T0 + 60_000 + 120_001;
    const second = await signTransaction(deps, named, build(now.value));
    expect(second.txId).not.toBe(first.txId);
    expect(deps.journal.entriesFor("op-1")).toHaveLength(2);
  });

  it("replaces a transaction another signer signed only with its bytes, once it expired", async () => {
    const now = { value: T0 };
    const { deps: a, owner, own2 } = await testSigner(now);
    // A second signer with the same keys and its own journal (another core replica's pod).
    const b = {
      ...a,
      journal: Journal.open(join(mkdtempSync(join(tmpdir(), "tp-j-")), "j"), () => now.value),
    };
    const to = toBase58(newAccount().address);
    const build = (t: number, from = owner) =>
      rawBytes(
        {
          type: "TransferContract",
          owner: parseAddress(from),
          to: parseAddress(to),
          amount: 1_000_000n,
        },
        t,
      );
    const firstRaw = build(T0);
    const first = await signTransaction(a, intent({ owner, counterparty: to }), firstRaw);
    const named = intent({ owner, counterparty: to, previousTxId: first.txId });

    now.value = T0 + 1_000;
    const early = await refusal(signTransaction(b, named, build(now.value), firstRaw));
    expect(early.reason).toBe("signer.replacement_refused");

    now.value = T0 + 60_000 + 120_001;
    // Without the bytes, with other bytes, or with another owner's transaction: refused.
    for (const previous of [undefined, build(T0 + 1), build(T0, own2)]) {
      const refused = await refusal(signTransaction(b, named, build(now.value), previous));
      expect(refused.reason).toBe("signer.replacement_refused");
    }
    const otherOwners = build(T0, own2);
    const forged = intent({ owner, counterparty: to, previousTxId: txIdOf(otherOwners) });
    expect((await refusal(signTransaction(b, forged, build(now.value), otherOwners))).reason).toBe(
      "signer.replacement_refused",
    );
    expect(b.journal.size).toBe(0);

    const secondRaw = build(now.value);
    const second = await signTransaction(b, named, secondRaw, firstRaw);
    expect(b.journal.entriesFor("op-1").map((e) => e.previousTxId)).toEqual([first.txId]);

    // Back on the first signer: its own signature expired, but the one it is told to replace
    // (signed by the other) has not yet.
    const third = intent({ owner, counterparty: to, previousTxId: second.txId });
    now.value += 1_000;
    expect((await refusal(signTransaction(a, third, build(now.value), secondRaw))).reason).toBe(
      "signer.replacement_refused",
    );
    now.value += 60_000 + 120_001;
    const replaced = await signTransaction(a, third, build(now.value), secondRaw);
    expect(replaced.txId).not.toBe(second.txId);
    expect(a.journal.entriesFor("op-1")).toHaveLength(2);
  });

  it("yields exactly one signature when many different transactions race for one operation", async () => {
    const now = { value: T0 };
    const { deps, owner } = await testSigner(now);
    const to = toBase58(newAccount().address);
    const attempts = Array.from({ length: 20 }, (_, k) =>
      signTransaction(
        deps,
        intent({ owner, counterparty: to }),
        rawBytes(
          {
            type: "TransferContract",
            owner: parseAddress(owner),
            to: parseAddress(to),
            amount: 1_000_000n,
          },
          T0 + k,
        ),
      ),
    );
    const settled = await Promise.allSettled(attempts);
    expect(settled.filter((s) => s.status === "fulfilled")).toHaveLength(1);
    expect(deps.journal.size).toBe(1);
  });

  it("enforces the rolling 24-hour cap per key from the journal", async () => {
    const now = { value: T0 };
    const { deps, owner } = await testSigner(
      now,
      testPolicy({ maxPer24h: { TRX: 2_500_000n, USDT: 0n } }),
    );
    const to = toBase58(newAccount().address);
    const send = (op: string, t: number) =>
      signTransaction(
        deps,
        intent({ owner, counterparty: to, operationId: op }),
        rawBytes(
          {
            type: "TransferContract",
            owner: parseAddress(owner),
            to: parseAddress(to),
            amount: 1_000_000n,
          },
          t,
        ),
      );
    await send("a", now.value);
    await send("b", now.value + 1);
    const third = await refusal(send("c", now.value + 2));
    expect(third).toEqual({ reason: "signer.policy_denied", meta: { rule: "max_per_24h" } });
    now.value += 24 * 3_600_000 + 1;
    await expect(send("c", now.value)).resolves.toBeDefined();
  });
});

describe("signTransaction refuses, and journals nothing, when", () => {
  const cases: [
    string,
    string,
    string | undefined,
    (ctx: Ctx) => [ReturnType<typeof intent>, Uint8Array],
  ][] = [
    [
      "raw_data is truncated",
      "signer.malformed_transaction",
      undefined,
      (c) => [c.i, c.raw.subarray(0, c.raw.length - 3)],
    ],
    [
      "raw_data has trailing garbage",
      "signer.malformed_transaction",
      undefined,
      (c) => [c.i, Uint8Array.from([...c.raw, 0xff, 0x01])],
    ],
    [
      "raw_data is empty",
      "signer.malformed_transaction",
      undefined,
      (c) => [c.i, new Uint8Array(0)],
    ],
    [
      "raw_data holds two contracts",
      "signer.malformed_transaction",
      undefined,
      (c) => [c.i, twoContracts(c.raw)],
    ],
    [
      "the owner is not one of our keys",
      "signer.unknown_key",
      undefined,
      (c) => {
        const stranger = toBase58(newAccount().address);
        return [{ ...c.i, owner: stranger }, c.transfer({ owner: stranger })];
      },
    ],
    [
      "the amount differs from the intent",
      "signer.intent_mismatch",
      undefined,
      (c) => [{ ...c.i, amount: 2n }, c.raw],
    ],
    [
      "the recipient differs from the intent",
      "signer.intent_mismatch",
      undefined,
      (c) => [{ ...c.i, counterparty: c.own2 }, c.raw],
    ],
    [
      "the kind differs from the contract",
      "signer.intent_mismatch",
      undefined,
      (c) => [{ ...c.i, kind: "FREEZE" }, c.raw],
    ],
    [
      "a memo is present and policy forbids memos",
      "signer.policy_denied",
      "memo",
      (c) => [{ ...c.i, memo: "hi" }, c.transfer({}, { data: new TextEncoder().encode("hi") })],
    ],
    [
      "the transaction has expired",
      "signer.policy_denied",
      "expired",
      (c) => [c.i, c.transfer({}, { expiration: BigInt(T0 - 1) })],
    ],
    [
      "the expiration is more than 24 h ahead",
      "signer.policy_denied",
      "expiration_window",
      (c) => [c.i, c.transfer({}, { expiration: BigInt(T0 + 25 * 3_600_000) })],
    ],
    [
      "expiration − timestamp exceeds the window",
      "signer.policy_denied",
      "expiration_window",
      (c) => [c.i, c.transfer({}, { expiration: BigInt(T0 + 3_600_000) })],
    ],
    [
      "the amount is above the per-transaction cap",
      "signer.policy_denied",
      "max_per_tx",
      (c) => [{ ...c.i, amount: 2_000_000_000n }, c.transfer({ amount: 2_000_000_000n })],
    ],
    [
      "the recipient is on the deny list",
      "signer.policy_denied",
      "denylist",
      (c) => [{ ...c.i, counterparty: c.denied }, c.transfer({ to: c.denied })],
    ],
    [
      "a token call goes to another contract",
      "signer.policy_denied",
      "token_contract",
      (c) => [c.usdtIntent, c.usdtCall({ contract: toBase58(newAccount().address) })],
    ],
    [
      "a USDT transfer intent carries an approve",
      "signer.policy_denied",
      "token_method",
      (c) => [c.usdtIntent, c.usdtCall({ approve: true })],
    ],
    [
      "the fee_limit is above the cap",
      "signer.policy_denied",
      "fee_limit",
      (c) => [c.usdtIntent, c.usdtCall({ feeLimit: 200_000_000n })],
    ],
    [
      "delegation goes to a foreign address",
      "signer.policy_denied",
      "delegate_receiver",
      (c) => {
        const foreign = toBase58(newAccount().address);
        return [
          { ...c.i, kind: "DELEGATE", counterparty: foreign, resource: "ENERGY" },
          rawBytes(
            {
              type: "DelegateResourceContract",
              owner: parseAddress(c.owner),
              resource: "ENERGY",
              balance: 1_000_000n,
              receiver: parseAddress(foreign),
              lock: false,
              lockPeriod: 0n,
            },
            T0,
          ),
        ];
      },
    ],
    [
      "the replaced transaction was never signed",
      "signer.replacement_refused",
      undefined,
      (c) => [{ ...c.i, previousTxId: "ab".repeat(32) }, c.raw],
    ],
  ];

  interface Ctx {
    owner: string;
    own2: string;
    denied: string;
    i: ReturnType<typeof intent>;
    raw: Uint8Array;
    usdtIntent: ReturnType<typeof intent>;
    transfer: (
      c: { owner?: string; to?: string; amount?: bigint },
      extra?: Parameters<typeof rawBytes>[2],
    ) => Uint8Array;
    usdtCall: (o: { contract?: string; approve?: boolean; feeLimit?: bigint }) => Uint8Array;
  }

  it.each(cases)("%s", async (_name, reason, rule, make) => {
    const now = { value: T0 };
    const denied = toBase58(newAccount().address);
    const { deps, owner, own2 } = await testSigner(now, testPolicy({ denylist: [denied] }));
    const to = toBase58(newAccount().address);
    const transfer: Ctx["transfer"] = (c, extra = {}) =>
      rawBytes(
        {
          type: "TransferContract",
          owner: parseAddress(c.owner ?? owner),
          to: parseAddress(c.to ?? to),
          amount: c.amount ?? 1_000_000n,
        },
        T0,
        extra,
      );
    const usdtCall: Ctx["usdtCall"] = (o) =>
      rawBytes(
        {
          type: "TriggerSmartContract",
          owner: parseAddress(owner),
          contract: parseAddress(o.contract ?? usdt),
          callValue: 0n,
          data: o.approve
            ? encodeApprove(parseAddress(to), 1_000_000n)
            : encodeTransfer(parseAddress(to), 1_000_000n),
          callTokenValue: 0n,
          tokenId: 0n,
        },
        T0,
        { feeLimit: o.feeLimit ?? 30_000_000n },
      );
    const ctx: Ctx = {
      owner,
      own2,
      denied,
      i: intent({ owner, counterparty: to }),
      raw: transfer({}),
      usdtIntent: intent({ owner, counterparty: to, kind: "USDT_TRANSFER", asset: "USDT" }),
      transfer,
      usdtCall,
    };
    const [i, raw] = make(ctx);
    const refused = await refusal(signTransaction(deps, i, raw));
    expect(refused.reason).toBe(reason);
    if (rule) expect(refused.meta.rule).toBe(rule);
    expect(deps.journal.size).toBe(0);
  });
});

/** The same raw_data with its contract field (11) repeated: a transaction with two contracts. */
function twoContracts(raw: Uint8Array): Uint8Array {
  // Find field 11 (tag 0x5a), copy it to the end.
  const at = raw.indexOf(0x5a);
  let len = 0;
  let shift = 0;
  let p = at + 1;
  for (;;) {
    const b = raw[p++] as number;
    len |= (b & 0x7f) << shift;
    shift += 7;
    if (b < 0x80) break;
  }
  const field = raw.subarray(at, p + len);
  return Uint8Array.from([...raw, ...field]);
}
