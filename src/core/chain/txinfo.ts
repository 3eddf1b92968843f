import { AppError } from "../../shared/errors.js";
import type { NodeClient } from "./node-client.js";
import {
  asObject,
  badResponse,
  hexMessage,
  idField,
  intField,
  isObject,
  objField,
  smallIntField,
  strField,
} from "./node-json.js";
import type { TxInfo } from "./types.js";

/** Receipt of an included transaction from the head or solidified state; undefined if none. */
export async function readTransactionInfo(
  client: NodeClient,
  txId: string,
  from: "head" | "solidified",
): Promise<TxInfo | undefined> {
  const path = from === "head" ? "/wallet" : "/walletsolidity";
  const json = await client.read(`${path}/gettransactioninfobyid`, { value: checkTxId(txId) });
  return parseTransactionInfo(json, txId);
}

/** True when the node knows the transaction (gettransactionbyid answers it). */
export async function readTransactionSeen(client: NodeClient, txId: string): Promise<boolean> {
  const json = await client.read("/wallet/gettransactionbyid", { value: checkTxId(txId) });
  if (!isObject(json)) throw badResponse("gettransactionbyid answer is not an object");
  if (Object.keys(json).length === 0) return false;
  if (strField(json, "txID", "transaction").toLowerCase() !== txId) {
    throw badResponse("gettransactionbyid answered another transaction");
  }
  return true;
}

/**
 * Maps java-tron's TransactionInfo JSON: `{}` is undefined; result is the receipt's
 * contractResult (SUCCESS, REVERT, OUT_OF_ENERGY, ...), else FAILED when the node says so,
 * else SUCCESS (a non-VM transaction has no receipt result).
 */
export function parseTransactionInfo(json: unknown, txId: string): TxInfo | undefined {
  const o = asObject(json, "transaction info");
  if (Object.keys(o).length === 0) return undefined;
  if (idField(o, "id", "transaction info") !== txId) {
    throw badResponse("transaction info is for another transaction");
  }
  const receipt = objField(o, "receipt", "transaction info");
  const where = "transaction info.receipt";
  const receiptResult = strField(receipt, "result", where);
  const failed = strField(o, "result", "transaction info") === "FAILED";
  const result =
    receiptResult !== "" && receiptResult !== "DEFAULT"
      ? receiptResult
      : failed
        ? "FAILED"
        : "SUCCESS";
  const info: TxInfo = {
    txId,
    blockNumber: intField(o, "blockNumber", "transaction info"),
    blockTime: smallIntField(o, "blockTimeStamp", "transaction info"),
    result,
    feeSun: intField(o, "fee", "transaction info"),
    energyUsed: intField(receipt, "energy_usage_total", where),
    energyFeeSun: intField(receipt, "energy_fee", where),
    netUsed: intField(receipt, "net_usage", where),
    netFeeSun: intField(receipt, "net_fee", where),
  };
  const message = hexMessage(o.resMessage);
  if (message !== "") info.message = message;
  return info;
}

function checkTxId(txId: string): string {
  if (!/^[0-9a-f]{64}$/.test(txId)) {
    throw new AppError("request.invalid", "tx_id must be 64 lowercase hex characters", {
      metadata: { field: "tx_id" },
    });
  }
  return txId;
}
