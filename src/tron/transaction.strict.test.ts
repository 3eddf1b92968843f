import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { hex } from "@scure/base";
import { describe, expect, it } from "vitest";
import { MAINNET_TRX_TRANSFER } from "./real-transactions.fixture.js";
import { newAccount, rawWith } from "./testing.js";
import {
  decodeTransaction,
  decodeTransactionRaw,
  encodeTransaction,
  encodeTransactionRaw,
  type TronDecodeCode,
  TronDecodeError,
  type TxRaw,
} from "./transaction.js";

// Hand-built wire bytes (with protobuf-es's writer, not our encoder) for every way a raw
// transaction can be malformed.

const URL = "type.googleapis.com/protocol.";
const owner = newAccount().address;
const to = newAccount().address;

type Part = (w: BinaryWriter) => void;
const varint =
  (no: number, v: bigint): Part =>
  (w) =>
    void w.tag(no, WireType.Varint).uint64(v);
const bytesF =
  (no: number, b: Uint8Array): Part =>
  (w) =>
    void w.tag(no, WireType.LengthDelimited).bytes(b);
const msg = (...parts: Part[]) => {
  const w = new BinaryWriter();
  for (const p of parts) p(w);
  return w.finish();
};
const utf8 = (s: string) => new TextEncoder().encode(s);

/** A Transaction.Contract with the given type number, type_url name and parameter bytes. */
function contract(typeNo: number, name: string, param: Uint8Array, ...extra: Part[]): Uint8Array {
  return msg(
    varint(1, BigInt(typeNo)),
    bytesF(2, msg(bytesF(1, utf8(URL + name)), bytesF(2, param))),
    ...extra,
  );
}
/** A raw with the usual header around the given contracts. */
function raw(contracts: Uint8Array[], ...extra: Part[]): Uint8Array {
  return msg(
    bytesF(1, Uint8Array.of(1, 2)),
    bytesF(4, new Uint8Array(8).fill(3)),
    varint(8, 1_700_000_060_000n),
    ...contracts.map((c) => bytesF(11, c)),
    varint(14, 1_700_000_000_000n),
    ...extra,
  );
}
const transfer = (...parts: Part[]) => contract(1, "TransferContract", msg(...parts));
const okTransfer = () => transfer(bytesF(1, owner), bytesF(2, to), varint(3, 5n));

function codeOf(f: () => unknown): TronDecodeCode | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof TronDecodeError) return err.code;
    throw err;
  }
  return undefined;
}

describe("decodeTransactionRaw strictness", () => {
  it("accepts the hand-built baseline", () => {
    expect(decodeTransactionRaw(raw([okTransfer()])).contract.type).toBe("TransferContract");
  });

  const real = hex.decode(MAINNET_TRX_TRANSFER.rawHex);
  const cases: [string, Uint8Array, TronDecodeCode][] = [
    ["bytes cut inside the last varint", real.subarray(0, real.length - 1), "truncated"],
    ["bytes cut inside the contract", real.subarray(0, 40), "truncated"],
    ["a length running past the end", Uint8Array.of(0x0a, 0x05, 0x01), "truncated"],
    ["a zero byte after the message", Uint8Array.from([...real, 0]), "trailing_garbage"],
    ["an end-group tag after the message", Uint8Array.from([...real, 0x0c]), "trailing_garbage"],
    ["an unknown raw field", Uint8Array.from([...real, 0xa0, 0x06, 0x01]), "unknown_field"],
    ["ref_block_num (unsupported)", raw([okTransfer()], varint(3, 7n)), "unknown_field"],
    ["scripts (unsupported)", raw([okTransfer()], bytesF(12, Uint8Array.of(1))), "unknown_field"],
    [
      "Contract.provider",
      raw([contract(1, "TransferContract", msg(bytesF(1, owner)), bytesF(3, Uint8Array.of(1)))]),
      "unknown_field",
    ],
    [
      "an unknown Any field",
      raw([
        msg(
          varint(1, 1n),
          bytesF(2, msg(bytesF(1, utf8(`${URL}TransferContract`)), varint(3, 1n))),
        ),
      ]),
      "unknown_field",
    ],
    [
      "an unknown contract field",
      raw([transfer(bytesF(1, owner), bytesF(2, to), varint(4, 1n))]),
      "unknown_field",
    ],
    ["no contract", raw([]), "contract_count"],
    ["two contracts", raw([okTransfer(), okTransfer()]), "contract_count"],
    [
      "an unsupported type (TransferAssetContract)",
      raw([contract(2, "TransferAssetContract", msg(bytesF(1, owner)))]),
      "unknown_contract",
    ],
    [
      "an unknown type number",
      raw([contract(999, "Nothing", msg(bytesF(1, owner)))]),
      "unknown_contract",
    ],
    [
      "a type_url of another type",
      raw([contract(1, "TriggerSmartContract", msg(bytesF(1, owner)))]),
      "type_mismatch",
    ],
    [
      "a type_url in another package",
      raw([
        msg(
          varint(1, 1n),
          bytesF(2, msg(bytesF(1, utf8("type.googleapis.com/x.TransferContract")))),
        ),
      ]),
      "type_mismatch",
    ],
    [
      "a 20-byte owner",
      raw([transfer(bytesF(1, owner.subarray(1)), bytesF(2, to))]),
      "bad_address",
    ],
    [
      "an owner not starting 0x41",
      raw([transfer(bytesF(1, Uint8Array.from([0xa0, ...owner.subarray(1)])), bytesF(2, to))]),
      "bad_address",
    ],
    ["a missing recipient", raw([transfer(bytesF(1, owner), varint(3, 5n))]), "bad_address"],
    [
      "a negative amount",
      raw([transfer(bytesF(1, owner), bytesF(2, to), varint(3, (1n << 64n) - 1n))]),
      "bad_value",
    ],
    ["a negative expiration", raw([okTransfer()], varint(18, 1n << 63n)), "bad_value"],
    [
      "a varint over 64 bits",
      Uint8Array.from([0x40, ...new Array(9).fill(0xff), 0x7f]),
      "bad_value",
    ],
    [
      "a 3-byte ref_block_bytes",
      msg(bytesF(1, Uint8Array.of(1, 2, 3)), bytesF(11, okTransfer())),
      "bad_value",
    ],
    [
      "an unknown ResourceCode",
      raw([contract(54, "FreezeBalanceV2Contract", msg(bytesF(1, owner), varint(3, 3n)))]),
      "bad_value",
    ],
    [
      "a bool of 2",
      raw([
        contract(
          57,
          "DelegateResourceContract",
          msg(bytesF(1, owner), bytesF(4, to), varint(5, 2n)),
        ),
      ]),
      "bad_value",
    ],
    [
      "a Permission_id above int32",
      raw([
        contract(1, "TransferContract", msg(bytesF(1, owner), bytesF(2, to)), varint(5, 1n << 31n)),
      ]),
      "bad_value",
    ],
    [
      "an amount sent as bytes",
      raw([transfer(bytesF(1, owner), bytesF(2, to), bytesF(3, Uint8Array.of(5)))]),
      "wrong_wire_type",
    ],
    [
      "an amount sent twice",
      raw([transfer(bytesF(1, owner), bytesF(2, to), varint(3, 5n), varint(3, 6n))]),
      "duplicate_field",
    ],
    [
      "fields out of order",
      raw([transfer(bytesF(2, to), bytesF(1, owner), varint(3, 5n))]),
      "non_canonical",
    ],
    [
      "an explicit default amount",
      raw([transfer(bytesF(1, owner), bytesF(2, to), varint(3, 0n))]),
      "non_canonical",
    ],
  ];

  it.each(cases)("refuses %s", (_, bytes, code) => {
    expect(codeOf(() => decodeTransactionRaw(bytes))).toBe(code);
  });

  it("refuses a non-minimal varint (5 written as 0x85 0x00)", () => {
    const good = raw([okTransfer()]);
    // timestamp (tag 0x70 + 6 varint bytes) is the last field; replace it with 5 written
    // in two bytes where one would do.
    const bad = Uint8Array.from([...good.subarray(0, good.length - 7), 0x70, 0x85, 0x00]);
    expect(
      decodeTransactionRaw(Uint8Array.from([...good.subarray(0, good.length - 7), 0x70, 0x05]))
        .timestamp,
    ).toBe(5n);
    expect(codeOf(() => decodeTransactionRaw(bad))).toBe("non_canonical");
  });

  it("refuses a full Transaction whose signature is not 65 bytes", () => {
    const encoded = encodeTransaction(raw([okTransfer()]), [new Uint8Array(64)]);
    expect(codeOf(() => decodeTransaction(encoded))).toBe("bad_signature");
  });

  it("refuses a full Transaction with an unknown field", () => {
    const encoded = Uint8Array.from([...encodeTransaction(raw([okTransfer()]), []), 0x18, 0x01]);
    expect(codeOf(() => decodeTransaction(encoded))).toBe("unknown_field");
  });
});

describe("encodeTransactionRaw refuses what the decoder would refuse", () => {
  const base = rawWith({ type: "TransferContract", owner, to, amount: 1n });
  const cases: [string, TxRaw, TronDecodeCode][] = [
    [
      "a negative amount",
      { ...base, contract: { type: "TransferContract", owner, to, amount: -1n } },
      "bad_value",
    ],
    [
      "an amount above int64",
      { ...base, contract: { type: "TransferContract", owner, to, amount: 1n << 63n } },
      "bad_value",
    ],
    [
      "a 20-byte recipient",
      { ...base, contract: { type: "TransferContract", owner, to: to.subarray(1), amount: 1n } },
      "bad_address",
    ],
    ["a 7-byte ref_block_hash", { ...base, refBlockHash: new Uint8Array(7) }, "bad_value"],
    ["a negative permission id", { ...base, permissionId: -1 }, "bad_value"],
    [
      "an unknown contract type",
      { ...base, contract: { type: "Nope", owner } as unknown as TxRaw["contract"] },
      "unknown_contract",
    ],
  ];
  it.each(cases)("refuses %s", (_, value, code) => {
    expect(codeOf(() => encodeTransactionRaw(value))).toBe(code);
  });
});
