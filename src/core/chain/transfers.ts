import { type AddressBytes, parseAddress, toBase58, toHex41 } from "../../shared/address.js";
import { decodeTransferLog, TRANSFER_TOPIC } from "../../tron/trc20.js";
import { parseBlock } from "./blocks.js";
import type { NodeClient } from "./node-client.js";
import {
  asObject,
  badResponse,
  idField,
  intField,
  type NodeObject,
  objField,
  strField,
} from "./node-json.js";
import { parseTransactionInfo } from "./txinfo.js";
import type { BlockTransfers, ChainTransfer, TxInfo } from "./types.js";

function list(v: unknown, what: string): NodeObject[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw badResponse(`${what} is not a list`);
  return v.map((e, i) => asObject(e, `${what}[${i}]`));
}

function base58(hexAddress: string, what: string): string {
  try {
    return toBase58(parseAddress(hexAddress));
  } catch (err) {
    throw badResponse(`${what} is not an address`, err);
  }
}

/** TRX TransferContract transactions of a block (java-tron block JSON with transactions). */
function trxTransfers(block: NodeObject, number: bigint, time: number): ChainTransfer[] {
  return list(block.transactions, "block.transactions").flatMap((t) => {
    const raw = objField(t, "raw_data", "transaction");
    const contracts = list(raw.contract, "transaction.raw_data.contract");
    const c = contracts[0];
    if (contracts.length !== 1 || !c || strField(c, "type", "contract") !== "TransferContract")
      return [];
    const v = objField(objField(c, "parameter", "contract"), "value", "contract.parameter");
    const ret = list(t.ret, "transaction.ret")[0] ?? {};
    const w = "TransferContract";
    return [
      {
        asset: "TRX" as const,
        txId: idField(t, "txID", "transaction"),
        logIndex: 0,
        from: base58(strField(v, "owner_address", w), `${w}.owner_address`),
        to: base58(strField(v, "to_address", w), `${w}.to_address`),
        amount: intField(v, "amount", w),
        blockNumber: number,
        blockTime: time,
        result: strField(ret, "contractRet", "ret") || "SUCCESS",
      },
    ];
  });
}

/** USDT Transfer events in a block's transaction infos (successful transactions only). */
function usdtTransfers(
  infos: unknown,
  usdt: AddressBytes,
  number: bigint,
  time: number,
): ChainTransfer[] {
  const contract = toHex41(usdt).slice(2);
  return list(infos, "transaction infos").flatMap((info) => {
    // A reverted call's logs are discarded by the VM; a FAILED info carries none that count.
    if (strField(info, "result", "transaction info") === "FAILED") return [];
    const txId = idField(info, "id", "transaction info");
    return list(info.log, "transaction info.log").flatMap((log, logIndex) => {
      const topics = Array.isArray(log.topics) ? (log.topics as unknown[]) : [];
      const address = strField(log, "address", "log").toLowerCase();
      if (address !== contract || String(topics[0]).toLowerCase() !== TRANSFER_TOPIC) return [];
      let e: ReturnType<typeof decodeTransferLog>;
      try {
        e = decodeTransferLog(log as never);
      } catch (err) {
        throw badResponse("a USDT Transfer log does not decode", err);
      }
      return [
        {
          asset: "USDT" as const,
          txId,
          logIndex,
          from: toBase58(e.from),
          to: toBase58(e.to),
          amount: e.amount,
          blockNumber: number,
          blockTime: time,
          result: "SUCCESS",
        },
      ];
    });
  });
}

/**
 * The TRX and USDT transfers of one solidified block; undefined when the block is not
 * solidified yet. Reads the block with its transactions and the block's transaction infos.
 */
export async function readBlockTransfers(
  client: NodeClient,
  usdt: AddressBytes,
  number: bigint,
): Promise<BlockTransfers | undefined> {
  const json = await client.read("/walletsolidity/getblockbynum", { num: number });
  const header = parseBlock(json, "block");
  if (!header) return undefined;
  const block = asObject(json, "block");
  const transfers = trxTransfers(block, header.number, header.timestamp);
  const receipts: TxInfo[] = [];
  if (header.transactionCount > 0) {
    const infos = await client.read("/walletsolidity/gettransactioninfobyblocknum", {
      num: number,
    });
    transfers.push(...usdtTransfers(infos, usdt, header.number, header.timestamp));
    for (const info of list(infos, "transaction infos")) {
      const r = parseTransactionInfo(info, idField(info, "id", "transaction info"));
      if (r && r.blockNumber === header.number) receipts.push(r);
    }
  }
  return { block: header, transfers, receipts };
}
