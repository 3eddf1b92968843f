import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AddressBytes } from "../shared/address.js";
import {
  type DecodedContract,
  decodeTransactionRaw,
  encodeTransactionRaw,
  type Resource,
  TronDecodeError,
  type TxRaw,
} from "./transaction.js";
import { bytesEqual } from "./values.js";

const address: fc.Arbitrary<AddressBytes> = fc
  .uint8Array({ minLength: 20, maxLength: 20 })
  .map((b) => Uint8Array.from([0x41, ...b]));
const int64 = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
  fc.bigInt({ min: 0n, max: 10n ** 12n }),
);
const resource: fc.Arbitrary<Resource> = fc.constantFrom("BANDWIDTH", "ENERGY", "TRON_POWER");
const bytes = (max: number) => fc.uint8Array({ maxLength: max });

const contract: fc.Arbitrary<DecodedContract> = fc.oneof(
  fc.record({
    type: fc.constant("TransferContract" as const),
    owner: address,
    to: address,
    amount: int64,
  }),
  fc.record({
    type: fc.constant("TriggerSmartContract" as const),
    owner: address,
    contract: address,
    callValue: int64,
    data: bytes(200),
    callTokenValue: int64,
    tokenId: int64,
  }),
  fc.record({
    type: fc.constant("FreezeBalanceV2Contract" as const),
    owner: address,
    frozenBalance: int64,
    resource,
  }),
  fc.record({
    type: fc.constant("UnfreezeBalanceV2Contract" as const),
    owner: address,
    unfreezeBalance: int64,
    resource,
  }),
  fc.record({ type: fc.constant("WithdrawExpireUnfreezeContract" as const), owner: address }),
  fc.record({
    type: fc.constant("DelegateResourceContract" as const),
    owner: address,
    resource,
    balance: int64,
    receiver: address,
    lock: fc.boolean(),
    lockPeriod: int64,
  }),
  fc.record({
    type: fc.constant("UnDelegateResourceContract" as const),
    owner: address,
    resource,
    balance: int64,
    receiver: address,
  }),
  fc.record({ type: fc.constant("CancelAllUnfreezeV2Contract" as const), owner: address }),
);

const txRaw: fc.Arbitrary<TxRaw> = fc.record({
  refBlockBytes: fc.uint8Array({ minLength: 2, maxLength: 2 }),
  refBlockHash: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  expiration: int64,
  timestamp: int64,
  feeLimit: int64,
  data: bytes(64),
  contract,
  permissionId: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 31 - 1 })),
});

type Mutation = { kind: "set" | "insert" | "delete" | "cut"; at: number; byte: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom("set", "insert", "delete", "cut"),
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
});

function mutate(input: Uint8Array, ms: Mutation[]): Uint8Array {
  let out = [...input];
  for (const m of ms) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.kind === "set") out[at] = m.byte;
    if (m.kind === "insert") out.splice(at, 0, m.byte);
    if (m.kind === "delete") out.splice(at, 1);
    if (m.kind === "cut") out = out.slice(0, at);
  }
  return Uint8Array.from(out);
}

describe("transaction encoding properties", () => {
  it("decode(encode(raw)) is raw for every valid TxRaw", () => {
    fc.assert(
      fc.property(txRaw, (raw) => {
        expect(decodeTransactionRaw(encodeTransactionRaw(raw))).toEqual(raw);
      }),
      { numRuns: 500 },
    );
  });

  it("a mutated encoding either fails with TronDecodeError or is itself the canonical encoding", () => {
    fc.assert(
      fc.property(txRaw, fc.array(mutation, { minLength: 1, maxLength: 4 }), (raw, ms) => {
        const mutated = mutate(encodeTransactionRaw(raw), ms);
        let decoded: TxRaw;
        try {
          decoded = decodeTransactionRaw(mutated);
        } catch (err) {
          expect(err).toBeInstanceOf(TronDecodeError);
          return;
        }
        // Accepted bytes must be exactly what we would write for what we decoded, so the
        // txID we would sign (sha256 of these bytes) describes the decoded value.
        expect(bytesEqual(encodeTransactionRaw(decoded), mutated)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
