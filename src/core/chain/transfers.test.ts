import { secp256k1 } from "@noble/curves/secp256k1.js";
import { describe, expect, it } from "vitest";
import { parseAddress, toBase58, toHex41 } from "../../shared/address.js";
import { addressFromPrivateKey } from "../../tron/keys.js";
import { encodeTransferLog } from "../../tron/trc20.js";
import type { NodeClient } from "./node-client.js";
import { readBlockTransfers } from "./transfers.js";

const USDT = parseAddress("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
const account = () => addressFromPrivateKey(secp256k1.utils.randomSecretKey());
const BLOCK_ID = `${42n.toString(16).padStart(16, "0")}${"ab".repeat(24)}`;
const TX1 = "11".repeat(32);
const TX2 = "22".repeat(32);
const TX3 = "33".repeat(32);

/** A node that answers the two reads with java-tron-shaped JSON. */
function node(answers: Record<string, unknown>): NodeClient {
  return { read: async (path: string) => answers[path] ?? {} } as unknown as NodeClient;
}

function block(transactions: unknown[]) {
  return {
    blockID: BLOCK_ID,
    block_header: { raw_data: { number: 42n, timestamp: 1_700_000_000_000n } },
    transactions,
  };
}

describe("readBlockTransfers", () => {
  const [a, b, other] = [account(), account(), account()];
  const trx = {
    txID: TX1,
    ret: [{ contractRet: "SUCCESS" }],
    raw_data: {
      contract: [
        {
          type: "TransferContract",
          parameter: {
            value: { owner_address: toHex41(a), to_address: toHex41(b), amount: 5_000_000n },
          },
        },
      ],
    },
  };
  const log = encodeTransferLog({ contract: USDT, from: b, to: a, amount: 7n });
  const foreign = encodeTransferLog({ contract: other, from: b, to: a, amount: 9n });

  it("finds TRX transfers and the USDT contract's Transfer events, with their log index", async () => {
    const found = await readBlockTransfers(
      node({
        "/walletsolidity/getblockbynum": block([trx]),
        "/walletsolidity/gettransactioninfobyblocknum": [
          { id: TX2, log: [foreign, log] },
          { id: TX3, result: "FAILED", log: [log] },
        ],
      }),
      USDT,
      42n,
    );
    expect(found?.transfers).toEqual([
      expect.objectContaining({
        asset: "TRX",
        txId: TX1,
        from: toBase58(a),
        to: toBase58(b),
        amount: 5_000_000n,
      }),
      expect.objectContaining({
        asset: "USDT",
        txId: TX2,
        logIndex: 1,
        from: toBase58(b),
        to: toBase58(a),
        amount: 7n,
      }),
    ]);
    expect(found?.transfers[0]?.blockTime).toBe(1_700_000_000_000);
  });

  it("answers undefined for a block that is not solidified yet", async () => {
    expect(await readBlockTransfers(node({}), USDT, 43n)).toBeUndefined();
  });
});
