import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAddress, toBase58 } from "../shared/address.js";
import { AppError } from "../shared/errors.js";
import { newAccount } from "../tron/testing.js";
import type { DecodedContract } from "../tron/transaction.js";
import { encodeApprove, encodeTransfer } from "../tron/trc20.js";
import { signTransaction } from "./flows.js";
import type { Intent } from "./policy.js";
import { intent, rawBytes, testPolicy, testSigner, usdt } from "./testing.js";

const T0 = 1_800_000_000_000;
const REFUSALS = new Set([
  "signer.policy_denied",
  "signer.intent_mismatch",
  "signer.malformed_transaction",
  "signer.unknown_key",
  "signer.replacement_refused",
]);

// Mutations that only make sense on a token call.
const USDT_ONLY = new Set(["call_value", "approve_instead", "token_contract", "fee_limit"]);

type Mutation =
  | { kind: "amount"; delta: bigint }
  | { kind: "recipient" }
  | { kind: "expired"; by: number }
  | { kind: "far_future"; by: number }
  | { kind: "long_lifetime"; by: number }
  | { kind: "memo"; text: string }
  | { kind: "foreign_owner" }
  | { kind: "token_contract" }
  | { kind: "fee_limit"; over: bigint }
  | { kind: "over_cap"; over: bigint }
  | { kind: "denylisted" }
  | { kind: "approve_instead" }
  | { kind: "call_value"; value: bigint }
  | { kind: "wrong_kind"; to: Intent["kind"] };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("amount" as const),
    delta: fc.bigInt({ min: 1n, max: 10n ** 12n }),
  }),
  fc.record({ kind: fc.constant("recipient" as const) }),
  fc.record({ kind: fc.constant("expired" as const), by: fc.integer({ min: 0, max: 10 ** 9 }) }),
  fc.record({ kind: fc.constant("far_future" as const), by: fc.integer({ min: 1, max: 10 ** 9 }) }),
  fc.record({
    kind: fc.constant("long_lifetime" as const),
    by: fc.integer({ min: 1, max: 10 ** 7 }),
  }),
  fc.record({
    kind: fc.constant("memo" as const),
    text: fc.string({ minLength: 1, maxLength: 40 }),
  }),
  fc.record({ kind: fc.constant("foreign_owner" as const) }),
  fc.record({ kind: fc.constant("token_contract" as const) }),
  fc.record({
    kind: fc.constant("fee_limit" as const),
    over: fc.bigInt({ min: 1n, max: 10n ** 15n }),
  }),
  fc.record({
    kind: fc.constant("over_cap" as const),
    over: fc.bigInt({ min: 1n, max: 10n ** 15n }),
  }),
  fc.record({ kind: fc.constant("denylisted" as const) }),
  fc.record({ kind: fc.constant("approve_instead" as const) }),
  fc.record({
    kind: fc.constant("call_value" as const),
    value: fc.bigInt({ min: 1n, max: 10n ** 12n }),
  }),
  fc.record({
    kind: fc.constant("wrong_kind" as const),
    to: fc.constantFrom<Intent["kind"]>("USDT_APPROVE", "FREEZE", "DELEGATE", "WITHDRAW_UNSTAKED"),
  }),
);

describe("the signer's policy (property)", () => {
  it("refuses every generated out-of-policy transaction and journals none", async () => {
    const now = { value: T0 };
    const denied = toBase58(newAccount().address);
    const policy = testPolicy({ denylist: [denied] });
    const { deps, owner } = await testSigner(now, policy);
    const stranger = toBase58(newAccount().address);
    const other = toBase58(newAccount().address);
    let runs = 0;

    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.bigInt({ min: 1n, max: 1_000_000_000n }),
        mutation,
        async (usdtRequested, amount, m) => {
          runs++;
          const isUsdt = usdtRequested || USDT_ONLY.has(m.kind);
          const to = m.kind === "denylisted" ? denied : other;
          const from = m.kind === "foreign_owner" ? stranger : owner;
          const txAmount = m.kind === "over_cap" ? policy.maxPerTx.TRX + m.over : amount;
          const token = m.kind === "token_contract" ? stranger : usdt;
          const contract: DecodedContract = isUsdt
            ? {
                type: "TriggerSmartContract",
                owner: parseAddress(from),
                contract: parseAddress(token),
                callValue: m.kind === "call_value" ? m.value : 0n,
                data: (m.kind === "approve_instead" ? encodeApprove : encodeTransfer)(
                  parseAddress(to),
                  txAmount,
                ),
                callTokenValue: 0n,
                tokenId: 0n,
              }
            : {
                type: "TransferContract",
                owner: parseAddress(from),
                to: parseAddress(to),
                amount: txAmount,
              };
          const expiration =
            m.kind === "expired"
              ? T0 - m.by
              : m.kind === "far_future"
                ? T0 + 24 * 3_600_000 + m.by
                : m.kind === "long_lifetime"
                  ? T0 + policy.maxLifetimeMs + m.by
                  : T0 + 60_000;
          const raw = rawBytes(contract, T0, {
            expiration: BigInt(expiration),
            feeLimit: isUsdt
              ? m.kind === "fee_limit"
                ? policy.maxFeeLimit + m.over
                : 30_000_000n
              : 0n,
            data: m.kind === "memo" ? new TextEncoder().encode(m.text) : new Uint8Array(0),
          });
          const declared = intent({
            owner: from,
            counterparty: m.kind === "recipient" ? owner : to,
            kind: m.kind === "wrong_kind" ? m.to : isUsdt ? "USDT_TRANSFER" : "TRX_TRANSFER",
            asset: isUsdt ? "USDT" : "TRX",
            amount: m.kind === "amount" ? txAmount + m.delta : txAmount,
            memo: m.kind === "memo" ? m.text : "",
            operationId: `prop-${runs}`,
          });
          try {
            await signTransaction(deps, declared, raw);
          } catch (err) {
            expect(err).toBeInstanceOf(AppError);
            expect(REFUSALS.has((err as AppError).reason), (err as AppError).reason).toBe(true);
            return;
          }
          throw new Error(`signed an out-of-policy transaction: ${m.kind}`);
        },
      ),
      { numRuns: 10_000 },
    );
    expect(runs).toBeGreaterThanOrEqual(10_000);
    expect(deps.journal.size).toBe(0);
  }, 120_000);
});
