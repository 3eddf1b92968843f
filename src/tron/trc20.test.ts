import { keccak_256 } from "@noble/hashes/sha3.js";
import { hex } from "@scure/base";
import { describe, expect, it } from "vitest";
import { parseAddress, toBase58 } from "../shared/address.js";
import { MAINNET_USDT_FULL, NILE_TRC20_TRANSFER } from "./real-transactions.fixture.js";
import { newAccount } from "./testing.js";
import { decodeTransaction, decodeTransactionRaw, TronDecodeError } from "./transaction.js";
import {
  APPROVAL_TOPIC,
  decodeCall,
  decodeTransferLog,
  decodeUint256,
  encodeAllowance,
  encodeApprove,
  encodeBalanceOf,
  encodeDecimals,
  encodeTransfer,
  encodeTransferFrom,
  encodeTransferLog,
  encodeUint256,
  SELECTORS,
  TRANSFER_TOPIC,
} from "./trc20.js";

const keccakHex = (s: string) => hex.encode(keccak_256(new TextEncoder().encode(s)));

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof TronDecodeError ? err.code : `not a TronDecodeError: ${String(err)}`;
  }
  return undefined;
}

describe("constants", () => {
  it.each([
    ["transfer", "transfer(address,uint256)"],
    ["balanceOf", "balanceOf(address)"],
    ["approve", "approve(address,uint256)"],
    ["allowance", "allowance(address,address)"],
    ["transferFrom", "transferFrom(address,address,uint256)"],
    ["decimals", "decimals()"],
  ] as const)("selector of %s is keccak256(%s)[0..4]", (name, signature) => {
    expect(SELECTORS[name]).toBe(keccakHex(signature).slice(0, 8));
  });

  it("event topics are keccak256 of the event signatures", () => {
    expect(TRANSFER_TOPIC).toBe(keccakHex("Transfer(address,address,uint256)"));
    expect(APPROVAL_TOPIC).toBe(keccakHex("Approval(address,address,uint256)"));
  });
});

describe("call data", () => {
  const a = newAccount().address;
  const b = newAccount().address;

  it("decodes what each encoder writes", () => {
    expect(decodeCall(encodeTransfer(a, 5n))).toEqual({ method: "transfer", to: a, amount: 5n });
    expect(decodeCall(encodeApprove(b, 2n ** 256n - 1n))).toEqual({
      method: "approve",
      spender: b,
      amount: 2n ** 256n - 1n,
    });
    expect(decodeCall(encodeBalanceOf(a))).toEqual({ method: "balanceOf", owner: a });
    expect(decodeCall(encodeAllowance(a, b))).toEqual({
      method: "allowance",
      owner: a,
      spender: b,
    });
    expect(decodeCall(encodeTransferFrom(a, b, 7n))).toEqual({
      method: "transferFrom",
      from: a,
      to: b,
      amount: 7n,
    });
    expect(decodeCall(encodeDecimals())).toEqual({ method: "decimals" });
  });

  it("writes a transfer as selector, zero-padded 20-byte address and 32-byte amount", () => {
    const data = hex.encode(encodeTransfer(a, 0x01cfe2ebn));
    expect(data).toBe(
      `a9059cbb${"00".repeat(12)}${hex.encode(a.subarray(1))}${"0".repeat(56)}01cfe2eb`,
    );
  });

  it("decodes the call data of a real mainnet USDT transfer", () => {
    const tx = decodeTransaction(hex.decode(MAINNET_USDT_FULL.transactionHex));
    if (tx.raw.contract.type !== "TriggerSmartContract") throw new Error("not a trigger");
    const call = decodeCall(tx.raw.contract.data);
    expect(call).toEqual({
      method: "transfer",
      to: parseAddress("4129228e5d382b7a2c2a0dbc05e6d6507f4dbb3bbe"),
      amount: 30_401_259n,
    });
  });

  it("refuses the Nile transfer's 0x41-padded address unless asked to mask like the TVM", () => {
    const raw = decodeTransactionRaw(hex.decode(NILE_TRC20_TRANSFER.rawHex));
    if (raw.contract.type !== "TriggerSmartContract") throw new Error("not a trigger");
    const { data } = raw.contract;
    expect(codeOf(() => decodeCall(data))).toBe("bad_address");
    const call = decodeCall(data, { maskAddresses: true });
    expect(call).toEqual({
      method: "transfer",
      to: parseAddress("4150125bea243a640bf85348873b6c4f3c517aee7a"),
      amount: 1n,
    });
  });

  const transfer = encodeTransfer(a, 5n);
  it.each([
    ["shorter than a selector", transfer.subarray(0, 3), "truncated"],
    ["a missing amount word", transfer.subarray(0, 36), "truncated"],
    ["one byte short", transfer.subarray(0, 67), "truncated"],
    ["one extra byte", Uint8Array.from([...transfer, 0]), "trailing_garbage"],
    ["an extra word", Uint8Array.from([...transfer, ...new Uint8Array(32)]), "trailing_garbage"],
    [
      "an unknown selector",
      Uint8Array.from([0xde, 0xad, 0xbe, 0xef, ...transfer.subarray(4)]),
      "unknown_method",
    ],
    [
      "dirty address padding",
      Uint8Array.from(transfer.map((x, i) => (i === 4 ? 1 : x))),
      "bad_address",
    ],
  ] as const)("refuses call data with %s", (_, data, code) => {
    expect(codeOf(() => decodeCall(data))).toBe(code);
  });
});

describe("uint256", () => {
  it("round-trips the bounds", () => {
    for (const v of [0n, 1n, 2n ** 255n, 2n ** 256n - 1n])
      expect(decodeUint256(encodeUint256(v))).toBe(v);
  });

  it("refuses negatives, 2^256 and words that are not 32 bytes", () => {
    expect(codeOf(() => encodeUint256(-1n))).toBe("bad_value");
    expect(codeOf(() => encodeUint256(2n ** 256n))).toBe("bad_value");
    expect(codeOf(() => decodeUint256(new Uint8Array(31)))).toBe("bad_value");
  });
});

describe("Transfer logs", () => {
  const contract = parseAddress(MAINNET_USDT_FULL.usdt);
  const from = parseAddress(MAINNET_USDT_FULL.owner);
  const to = parseAddress("4129228e5d382b7a2c2a0dbc05e6d6507f4dbb3bbe");

  it("writes java-tron's shape: 20-byte address without 41, topic0, padded from/to, amount word", () => {
    const log = encodeTransferLog({ contract, from, to, amount: 30_401_259n });
    expect(log).toEqual({
      address: "a614f803b6fd780986a42c78ec9c7f77e6ded13c",
      topics: [
        TRANSFER_TOPIC,
        `${"00".repeat(12)}${hex.encode(from.subarray(1))}`,
        `${"00".repeat(12)}29228e5d382b7a2c2a0dbc05e6d6507f4dbb3bbe`,
      ],
      data: `${"0".repeat(56)}01cfe2eb`,
    });
    expect(decodeTransferLog(log)).toEqual({ contract, from, to, amount: 30_401_259n });
    expect(
      toBase58(decodeTransferLog({ ...log, address: log.address.toUpperCase() }).contract),
    ).toBe(MAINNET_USDT_FULL.usdt);
  });

  it("refuses logs that are not a Transfer", () => {
    const log = encodeTransferLog({ contract, from, to, amount: 1n });
    expect(
      codeOf(() => decodeTransferLog({ ...log, topics: [APPROVAL_TOPIC, ...log.topics.slice(1)] })),
    ).toBe("bad_value");
    expect(codeOf(() => decodeTransferLog({ ...log, topics: log.topics.slice(0, 2) }))).toBe(
      "bad_value",
    );
    expect(codeOf(() => decodeTransferLog({ ...log, address: `41${log.address}` }))).toBe(
      "bad_address",
    );
    expect(codeOf(() => decodeTransferLog({ ...log, data: `${log.data}00` }))).toBe("bad_value");
  });
});
