import { hex } from "@scure/base";
import { TronWeb, utils as tronUtils } from "tronweb";
import { describe, expect, it } from "vitest";
import { toHex41 } from "../shared/address.js";
import { transactionFromJson, transactionToJson } from "./json.js";
import {
  MAINNET_FREEZE_V2,
  MAINNET_TRX_WITH_MEMO,
  MAINNET_UNDELEGATE,
  NILE_TRC20_TRANSFER,
} from "./real-transactions.fixture.js";
import { signTxId } from "./signature.js";
import { newAccount, oneOfEach, rawWith } from "./testing.js";
import {
  decodeTransactionRaw,
  encodeTransactionRaw,
  TronDecodeError,
  txIdOf,
} from "./transaction.js";
import { encodeTransfer } from "./trc20.js";

// tronweb runs fully offline here: every builder gets options.blockHeader (or txLocal), so it
// never asks a node; the host below is a closed local port and is never contacted.
const tronWeb = new TronWeb({ fullHost: "http://127.0.0.1:9" });
const blockHeader = {
  ref_block_bytes: "8ad9",
  ref_block_hash: "eaef69105495eb15",
  expiration: 1_773_182_914_544,
  timestamp: 1_773_182_854_544,
};

type TronJson = { txID: string; raw_data_hex: string; raw_data: unknown; signature?: string[] };

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof TronDecodeError ? err.code : `not a TronDecodeError: ${String(err)}`;
  }
  return undefined;
}

/** Our decoder and JSON agree with a transaction tronweb built. */
function expectAgreement(tx: TronJson): void {
  const rawBytes = hex.decode(tx.raw_data_hex);
  expect(hex.encode(encodeTransactionRaw(decodeTransactionRaw(rawBytes)))).toBe(tx.raw_data_hex);
  expect(txIdOf(rawBytes)).toBe(tx.txID);
  expect(transactionToJson(rawBytes)).toEqual(tx);
  expect(transactionFromJson(tx).rawBytes).toEqual(rawBytes);
}

describe("agreement with tronweb 6.5.1", () => {
  const a = newAccount();
  const b = newAccount();

  it("matches a TRX transfer built by tronweb", async () => {
    const tx = await tronWeb.transactionBuilder.sendTrx(
      toHex41(b.address),
      10_000_000,
      toHex41(a.address),
      {
        blockHeader,
      } as never,
    );
    expectAgreement(tx as unknown as TronJson);
    const raw = decodeTransactionRaw(hex.decode(tx.raw_data_hex));
    expect(raw.contract).toEqual({
      type: "TransferContract",
      owner: a.address,
      to: b.address,
      amount: 10_000_000n,
    });
  });

  async function buildTrigger(): Promise<TronJson> {
    const built = await tronWeb.transactionBuilder.triggerSmartContract(
      toHex41(b.address),
      "transfer(address,uint256)",
      { txLocal: true, feeLimit: 100_000_000, blockHeader } as never,
      [
        { type: "address", value: toHex41(a.address) },
        { type: "uint256", value: 1_500_000 },
      ],
      toHex41(a.address),
    );
    return (built as unknown as { transaction: TronJson }).transaction;
  }

  it("matches a TriggerSmartContract (TRC-20 transfer) built by tronweb", async () => {
    const tx = await buildTrigger();
    expectAgreement(tx);
    const raw = decodeTransactionRaw(hex.decode(tx.raw_data_hex));
    expect(raw.feeLimit).toBe(100_000_000n);
    if (raw.contract.type !== "TriggerSmartContract") throw new Error("not a trigger");
    expect(raw.contract.data).toEqual(encodeTransfer(a.address, 1_500_000n));
  });

  it("matches a TriggerSmartContract with a memo added by tronweb", async () => {
    const withMemo = await tronWeb.transactionBuilder.addUpdateData(
      (await buildTrigger()) as never,
      "payout 42",
      "utf8",
      { txLocal: true } as never,
    );
    const tx = withMemo as unknown as TronJson;
    expectAgreement(tx);
    const raw = decodeTransactionRaw(hex.decode(tx.raw_data_hex));
    expect(new TextDecoder().decode(raw.data)).toBe("payout 42");
  });

  it.each(oneOfEach(a.address, b.address).map((c) => [c.type, c] as const))(
    "tronweb's own check accepts our JSON for %s and signs it exactly as we do",
    async (_, contract) => {
      const rawBytes = encodeTransactionRaw(
        rawWith(contract, { data: new TextEncoder().encode("m") }),
      );
      const json = transactionToJson(rawBytes);
      expect(tronUtils.transaction.txCheck(json as never)).toBe(true);
      const signed = (await tronWeb.trx.sign(
        json as never,
        hex.encode(a.priv),
      )) as unknown as TronJson;
      expect(signed.signature?.[0]?.toLowerCase()).toBe(hex.encode(signTxId(json.txID, a.priv)));
    },
  );

  it("reads tronweb's JSON for a stake with default fields written out", async () => {
    const tx = (await tronWeb.transactionBuilder.delegateResource(
      1_000_000,
      toHex41(b.address),
      "BANDWIDTH",
      toHex41(a.address),
      false,
      0,
      { blockHeader } as never,
    )) as unknown as TronJson;
    const { rawBytes } = transactionFromJson(tx);
    expect(decodeTransactionRaw(rawBytes).contract).toEqual({
      type: "DelegateResourceContract",
      owner: a.address,
      resource: "BANDWIDTH",
      balance: 1_000_000n,
      receiver: b.address,
      lock: false,
      lockPeriod: 0n,
    });
  });
});

describe("agreement with node JSON of real transactions", () => {
  // raw_data objects exactly as java-tron / TronGrid returned them (sources in the fixture).
  it("reproduces java-tron's raw_data for a transfer with a memo", () => {
    const json = transactionToJson(hex.decode(MAINNET_TRX_WITH_MEMO.rawHex), [
      hex.decode(MAINNET_TRX_WITH_MEMO.signature as string),
    ]);
    expect(json.txID).toBe(MAINNET_TRX_WITH_MEMO.txId);
    expect(json.signature).toEqual([MAINNET_TRX_WITH_MEMO.signature]);
    expect(json.raw_data).toEqual({
      data: "6c756b65",
      contract: [
        {
          parameter: {
            value: {
              amount: 1,
              owner_address: "41e68570a74f01cb77c44dbbd93977d7800344eace",
              to_address: "41985fcc765e42a5fbade70a194bf09c24692a2cec",
            },
            type_url: "type.googleapis.com/protocol.TransferContract",
          },
          type: "TransferContract",
        },
      ],
      ref_block_bytes: "b530",
      ref_block_hash: "f8878f20d184f98b",
      expiration: 1661246148000,
      timestamp: 1661246089959,
    });
  });

  it("reproduces TronGrid's raw_data for a FreezeBalanceV2 and an UnDelegateResource", () => {
    expect(transactionToJson(hex.decode(MAINNET_FREEZE_V2.rawHex)).raw_data).toEqual({
      contract: [
        {
          parameter: {
            value: {
              resource: "ENERGY",
              frozen_balance: 1000000,
              owner_address: MAINNET_FREEZE_V2.owner,
            },
            type_url: "type.googleapis.com/protocol.FreezeBalanceV2Contract",
          },
          type: "FreezeBalanceV2Contract",
        },
      ],
      ref_block_bytes: "80b9",
      ref_block_hash: "63e75a2a561115d9",
      expiration: 1710238068000,
      timestamp: 1710238010245,
    });
    expect(transactionToJson(hex.decode(MAINNET_UNDELEGATE.rawHex)).raw_data.contract).toEqual([
      {
        parameter: {
          value: {
            balance: 1000000,
            resource: "ENERGY",
            receiver_address: "41a2ff80f95ce3740235dc46a4dffe00d9f9b91f37",
            owner_address: MAINNET_UNDELEGATE.owner,
          },
          type_url: "type.googleapis.com/protocol.UnDelegateResourceContract",
        },
        type: "UnDelegateResourceContract",
      },
    ]);
  });
});

describe("transactionFromJson checks", () => {
  const json = transactionToJson(hex.decode(NILE_TRC20_TRANSFER.rawHex), [
    hex.decode(NILE_TRC20_TRANSFER.signature as string),
  ]);
  const clone = () =>
    structuredClone(json) as unknown as Record<string, unknown> & {
      raw_data: Record<string, unknown>;
    };

  it("returns the raw bytes and signatures of a consistent document, hex in any case", () => {
    const upper = {
      ...clone(),
      txID: json.txID.toUpperCase(),
      signature: [NILE_TRC20_TRANSFER.signature?.toUpperCase()],
    };
    const out = transactionFromJson(upper);
    expect(hex.encode(out.rawBytes)).toBe(NILE_TRC20_TRANSFER.rawHex);
    expect(out.signatures.map((s) => hex.encode(s))).toEqual([NILE_TRC20_TRANSFER.signature]);
  });

  it("accepts a document without raw_data, trusting only raw_data_hex", () => {
    const { raw_data: _, ...rest } = clone();
    expect(hex.encode(transactionFromJson(rest).rawBytes)).toBe(NILE_TRC20_TRANSFER.rawHex);
  });

  it.each([
    ["a txID of other bytes", () => ({ ...clone(), txID: "00".repeat(32) }), "txid_mismatch"],
    [
      "raw_data that disagrees with raw_data_hex",
      () => {
        const j = clone();
        j.raw_data.fee_limit = 1;
        return j;
      },
      "txid_mismatch",
    ],
    [
      "raw_data with two contracts",
      () => {
        const j = clone();
        const c = j.raw_data.contract as unknown[];
        j.raw_data.contract = [c[0], c[0]];
        return j;
      },
      "contract_count",
    ],
    [
      "raw_data_hex with trailing bytes",
      () => ({ ...clone(), raw_data_hex: `${json.raw_data_hex}00` }),
      "trailing_garbage",
    ],
    ["raw_data_hex that is not hex", () => ({ ...clone(), raw_data_hex: "xyz" }), "bad_json"],
    ["a 64-byte signature", () => ({ ...clone(), signature: ["00".repeat(64)] }), "bad_signature"],
    ["no txID", () => ({ ...clone(), txID: undefined }), "bad_json"],
    ["an array", () => [], "bad_json"],
  ] as const)("refuses %s", (_, make, code) => {
    expect(codeOf(() => transactionFromJson(make()))).toBe(code);
  });

  it("omits signature when there is none and writes amounts as numbers", () => {
    const unsigned = transactionToJson(hex.decode(NILE_TRC20_TRANSFER.rawHex));
    expect("signature" in unsigned).toBe(false);
    expect(unsigned.raw_data.fee_limit).toBe(100_000_000);
    expect(unsigned.visible).toBe(false);
  });
});
