import { AppError } from "../../shared/errors.js";
import { transactionToJson } from "../../tron/json.js";
import { txIdOf } from "../../tron/transaction.js";
import type { NodeClient, SendAnswer } from "./node-client.js";
import { hexMessage, isObject } from "./node-json.js";
import type { BroadcastResult, RejectCode } from "./types.js";

// Codes after which java-tron has certainly not accepted the transaction into its pool.
const DEFINITIVE: ReadonlySet<string> = new Set<RejectCode>([
  "SIGERROR",
  "CONTRACT_VALIDATE_ERROR",
  "CONTRACT_EXE_ERROR",
  "BANDWITH_ERROR",
  "TAPOS_ERROR",
  "TOO_BIG_TRANSACTION_ERROR",
  "TRANSACTION_EXPIRATION_ERROR",
]);

/**
 * Sends a signed transaction once to one node (never retried here: the engine decides) and
 * classifies the answer. Throws only when rawData is not a transaction (nothing is sent).
 */
export async function broadcast(
  client: NodeClient,
  rawData: Uint8Array,
  signature: Uint8Array,
): Promise<BroadcastResult> {
  let body: unknown;
  try {
    body = transactionToJson(rawData, [signature]);
  } catch (err) {
    throw new AppError("internal", "raw data is not a TRON transaction", { cause: err });
  }
  return classifyBroadcastAnswer(
    await client.send("/wallet/broadcasttransaction", body),
    txIdOf(rawData),
  );
}

/**
 * java-tron's broadcast answer as an outcome: `{result:true}` accepted, DUP_TRANSACTION_ERROR
 * duplicate, a definitive code rejected; anything else (transport failure, SERVER_BUSY,
 * OTHER_ERROR, an unknown code, an answer we cannot read) unknown: it may have been accepted.
 */
export function classifyBroadcastAnswer(answer: SendAnswer, txId: string): BroadcastResult {
  if (!answer.ok) return { outcome: "unknown", detail: answer.detail };
  const json = answer.json;
  if (!isObject(json)) return { outcome: "unknown", detail: "broadcast answer is not an object" };
  if (json.result === true) {
    if (typeof json.txid === "string" && json.txid.toLowerCase() !== txId) {
      return { outcome: "unknown", detail: "node accepted a different txid" };
    }
    return { outcome: "accepted" };
  }
  const code = typeof json.code === "string" ? json.code : undefined;
  const message = hexMessage(json.message).slice(0, 500);
  if (code === "DUP_TRANSACTION_ERROR") return { outcome: "duplicate" };
  if (code !== undefined && DEFINITIVE.has(code)) {
    return { outcome: "rejected", code: code as RejectCode, message };
  }
  if (code !== undefined) return { outcome: "unknown", detail: `${code}: ${message}` };
  const error = typeof json.Error === "string" ? json.Error.slice(0, 500) : "unreadable answer";
  return { outcome: "unknown", detail: error };
}
