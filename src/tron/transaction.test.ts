import { hex } from "@scure/base";
import { describe, expect, it } from "vitest";
import { parseAddress, toBase58, toHex41 } from "../shared/address.js";
import { encodeContractParameter } from "./contracts.js";
import {
  MAINNET_FREEZE_V2,
  MAINNET_TRX_TRANSFER,
  MAINNET_TRX_WITH_MEMO,
  MAINNET_UNDELEGATE,
  MAINNET_USDT_FULL,
  NILE_TRC20_TRANSFER,
} from "./real-transactions.fixture.js";
import { newAccount, oneOfEach, rawWith } from "./testing.js";
import {
  decodeTransaction,
  decodeTransactionRaw,
  encodeTransaction,
  encodeTransactionRaw,
  txIdOf,
} from "./transaction.js";

const bytes = (h: string) => hex.decode(h);

describe("real transactions", () => {
  const all = [
    NILE_TRC20_TRANSFER,
    MAINNET_TRX_TRANSFER,
    MAINNET_FREEZE_V2,
    MAINNET_UNDELEGATE,
    MAINNET_TRX_WITH_MEMO,
  ];

  it.each(all.map((t) => [t.txId, t] as const))(
    "%s re-encodes byte for byte and hashes to its txID",
    (_, t) => {
      const raw = decodeTransactionRaw(bytes(t.rawHex));
      expect(hex.encode(encodeTransactionRaw(raw))).toBe(t.rawHex);
      expect(txIdOf(bytes(t.rawHex))).toBe(t.txId);
    },
  );

  it("decodes the Nile TRC-20 transfer to its documented fields", () => {
    const raw = decodeTransactionRaw(bytes(NILE_TRC20_TRANSFER.rawHex));
    expect(raw.contract.type).toBe("TriggerSmartContract");
    if (raw.contract.type !== "TriggerSmartContract") return;
    expect(toHex41(raw.contract.owner)).toBe(NILE_TRC20_TRANSFER.owner);
    expect(toBase58(raw.contract.contract)).toBe("TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf");
    expect(raw.feeLimit).toBe(100_000_000n);
    expect(hex.encode(raw.contract.data.subarray(0, 4))).toBe("a9059cbb");
    expect(raw.contract.callValue).toBe(0n);
  });

  it("decodes the mainnet TRX transfer to its documented fields", () => {
    const raw = decodeTransactionRaw(bytes(MAINNET_TRX_TRANSFER.rawHex));
    expect(raw.contract).toEqual({
      type: "TransferContract",
      owner: parseAddress("415f2c42079ef9870cc37c19317ef5e37e51851bee"),
      to: parseAddress("41e342a962f683ce59a31c016c3a89d92480db8121"),
      amount: 10_000_000n,
    });
    expect(raw.feeLimit).toBe(0n);
    expect(raw.data).toHaveLength(0);
  });

  it("decodes a mainnet FreezeBalanceV2 for ENERGY", () => {
    const raw = decodeTransactionRaw(bytes(MAINNET_FREEZE_V2.rawHex));
    expect(raw.contract).toEqual({
      type: "FreezeBalanceV2Contract",
      owner: parseAddress(MAINNET_FREEZE_V2.owner),
      frozenBalance: 1_000_000n,
      resource: "ENERGY",
    });
    expect(hex.encode(raw.refBlockBytes)).toBe("80b9");
    expect(hex.encode(raw.refBlockHash)).toBe("63e75a2a561115d9");
  });

  it("decodes a mainnet UnDelegateResource", () => {
    const raw = decodeTransactionRaw(bytes(MAINNET_UNDELEGATE.rawHex));
    expect(raw.contract).toEqual({
      type: "UnDelegateResourceContract",
      owner: parseAddress(MAINNET_UNDELEGATE.owner),
      resource: "ENERGY",
      balance: 1_000_000n,
      receiver: parseAddress("41a2ff80f95ce3740235dc46a4dffe00d9f9b91f37"),
    });
  });

  it("decodes the memo of a mainnet transfer from raw.data", () => {
    const raw = decodeTransactionRaw(bytes(MAINNET_TRX_WITH_MEMO.rawHex));
    expect(new TextDecoder().decode(raw.data)).toBe("luke");
    expect(raw.expiration).toBe(1_661_246_148_000n);
    expect(raw.timestamp).toBe(1_661_246_089_959n);
  });

  it("decodes a full mainnet Transaction with a ret entry and re-encodes its signed part", () => {
    const tx = decodeTransaction(bytes(MAINNET_USDT_FULL.transactionHex));
    expect(tx.txId).toBe(MAINNET_USDT_FULL.txId);
    expect(tx.signatures).toHaveLength(1);
    expect(tx.raw.contract.type).toBe("TriggerSmartContract");
    if (tx.raw.contract.type === "TriggerSmartContract") {
      expect(toBase58(tx.raw.contract.contract)).toBe(MAINNET_USDT_FULL.usdt);
      expect(toBase58(tx.raw.contract.owner)).toBe(MAINNET_USDT_FULL.owner);
    }
    // Without `ret` (node output), the encoding is a prefix of the node's bytes.
    const ours = hex.encode(encodeTransaction(tx.rawBytes, tx.signatures));
    expect(MAINNET_USDT_FULL.transactionHex.startsWith(ours)).toBe(true);
    expect(MAINNET_USDT_FULL.transactionHex.slice(ours.length)).toBe("2a021801");
  });
});

describe("round trips with generated keys", () => {
  const a = newAccount();
  const b = newAccount();

  it.each(oneOfEach(a.address, b.address).map((c) => [c.type, c] as const))(
    "%s encodes, decodes and re-encodes to the same value",
    (_, contract) => {
      const raw = rawWith(contract, { data: new TextEncoder().encode("memo"), permissionId: 2 });
      const encoded = encodeTransactionRaw(raw);
      expect(decodeTransactionRaw(encoded)).toEqual(raw);
      const full = decodeTransaction(encodeTransaction(encoded, [new Uint8Array(65).fill(1)]));
      expect(full.raw).toEqual(raw);
      expect(full.txId).toBe(txIdOf(encoded));
    },
  );

  it("omits every default, so an all-default contract body is just the owner", () => {
    const contract = {
      type: "FreezeBalanceV2Contract",
      owner: a.address,
      frozenBalance: 0n,
      resource: "BANDWIDTH",
    } as const;
    expect(hex.encode(encodeContractParameter(contract))).toBe(`0a15${toHex41(a.address)}`);
    const raw = rawWith(contract);
    expect(decodeTransactionRaw(encodeTransactionRaw(raw))).toEqual(raw);
  });
});
