import { CONTRACT_TYPE_NUMBER, type ContractType } from "./contracts.js";
import { TronDecodeError } from "./decode-error.js";
import { bytesToHex, hexToBytes } from "./hex.js";
import {
  contractValueFromJson,
  contractValueToJson,
  type JsonObject,
  jsonNumber,
  readInt,
} from "./json-contract.js";
import {
  decodeTransactionRaw,
  encodeTransactionRaw,
  type TxRaw,
  TYPE_URL_PREFIX,
  txIdOf,
} from "./transaction.js";
import { bytesEqual } from "./values.js";

/** A transaction in java-tron's JSON form (visible=false), as tronweb builds and checks it. */
export interface TransactionJson {
  txID: string;
  raw_data: JsonObject;
  raw_data_hex: string;
  signature?: string[];
  visible: false;
}

/**
 * java-tron's JSON for raw bytes and signatures: txID, raw_data (defaults omitted, addresses
 * 41-hex, int64 as numbers), raw_data_hex, signature (omitted when there is none),
 * visible=false. Throws TronDecodeError if the bytes do not decode strictly.
 */
export function transactionToJson(
  rawBytes: Uint8Array,
  signatures: readonly Uint8Array[] = [],
): TransactionJson {
  const raw = decodeTransactionRaw(rawBytes);
  const out: TransactionJson = {
    visible: false,
    txID: txIdOf(rawBytes),
    raw_data: rawDataToJson(raw),
    raw_data_hex: bytesToHex(rawBytes),
  };
  if (signatures.length > 0) out.signature = signatures.map((s) => bytesToHex(s));
  return out;
}

/** The `raw_data` object of a transaction's JSON. */
export function rawDataToJson(raw: TxRaw): JsonObject {
  const contract: JsonObject = {
    parameter: {
      value: contractValueToJson(raw.contract),
      type_url: TYPE_URL_PREFIX + raw.contract.type,
    },
    type: raw.contract.type,
  };
  if (raw.permissionId !== 0) contract.Permission_id = raw.permissionId;
  const out: JsonObject = {
    contract: [contract],
    ref_block_bytes: bytesToHex(raw.refBlockBytes),
    ref_block_hash: bytesToHex(raw.refBlockHash),
  };
  if (raw.expiration !== 0n) out.expiration = jsonNumber(raw.expiration, "expiration");
  if (raw.data.length > 0) out.data = bytesToHex(raw.data);
  if (raw.timestamp !== 0n) out.timestamp = jsonNumber(raw.timestamp, "timestamp");
  if (raw.feeLimit !== 0n) out.fee_limit = jsonNumber(raw.feeLimit, "fee_limit");
  return out;
}

/**
 * Reads a transaction JSON (from tronweb or a node). raw_data_hex must decode strictly and
 * hash to txID; raw_data, when present, must encode to exactly raw_data_hex (java-tron acts
 * on raw_data, tronweb on raw_data_hex, so they must not disagree). Signatures must be 65-byte
 * hex. Throws TronDecodeError otherwise.
 */
export function transactionFromJson(json: unknown): {
  rawBytes: Uint8Array;
  signatures: Uint8Array[];
} {
  if (!isObject(json)) throw new TronDecodeError("bad_json", "transaction is not an object");
  if (typeof json.txID !== "string") throw new TronDecodeError("bad_json", "txID is missing");
  if (typeof json.raw_data_hex !== "string")
    throw new TronDecodeError("bad_json", "raw_data_hex is missing");
  const rawBytes = hexToBytes(json.raw_data_hex, "raw_data_hex", "bad_json");
  decodeTransactionRaw(rawBytes);
  if (txIdOf(rawBytes) !== json.txID.toLowerCase().replace(/^0x/, "")) {
    throw new TronDecodeError("txid_mismatch", "txID is not sha256(raw_data_hex)");
  }
  if (json.raw_data !== undefined) {
    const fromJson = encodeTransactionRaw(rawDataFromJson(json.raw_data));
    if (!bytesEqual(fromJson, rawBytes)) {
      throw new TronDecodeError("txid_mismatch", "raw_data does not encode to raw_data_hex");
    }
  }
  return { rawBytes, signatures: readSignatures(json.signature) };
}

/** Reads a JSON `raw_data` object into TxRaw (the fields tronweb's own check reads). */
export function rawDataFromJson(rawData: unknown): TxRaw {
  if (!isObject(rawData)) throw new TronDecodeError("bad_json", "raw_data is not an object");
  const contracts = rawData.contract;
  if (!Array.isArray(contracts) || contracts.length !== 1) {
    throw new TronDecodeError("contract_count", "raw_data.contract must hold exactly one contract");
  }
  const c: unknown = contracts[0];
  if (!isObject(c) || !isObject(c.parameter) || !isObject(c.parameter.value)) {
    throw new TronDecodeError("bad_json", "raw_data.contract[0].parameter.value is missing");
  }
  const type = c.type as ContractType;
  if (typeof c.type !== "string" || !Object.hasOwn(CONTRACT_TYPE_NUMBER, c.type)) {
    throw new TronDecodeError(
      "unknown_contract",
      `contract type ${String(c.type)} is not supported`,
    );
  }
  if (c.parameter.type_url !== TYPE_URL_PREFIX + type) {
    throw new TronDecodeError("type_mismatch", `type_url does not match ${type}`);
  }
  return {
    refBlockBytes: hexToBytes(rawData.ref_block_bytes as string, "ref_block_bytes", "bad_json"),
    refBlockHash: hexToBytes(rawData.ref_block_hash as string, "ref_block_hash", "bad_json"),
    expiration: readInt(rawData, "expiration", "raw_data"),
    timestamp: readInt(rawData, "timestamp", "raw_data"),
    feeLimit: readInt(rawData, "fee_limit", "raw_data"),
    data:
      rawData.data === undefined
        ? new Uint8Array(0)
        : hexToBytes(rawData.data as string, "data", "bad_json"),
    contract: contractValueFromJson(type, c.parameter.value),
    permissionId: Number(readInt(c, "Permission_id", "raw_data.contract[0]")),
  };
}

function readSignatures(v: unknown): Uint8Array[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new TronDecodeError("bad_json", "signature is not an array");
  return v.map((s, i) => {
    const bytes = hexToBytes(s as string, `signature[${i}]`, "bad_signature");
    if (bytes.length !== 65)
      throw new TronDecodeError("bad_signature", `signature[${i}] is not 65 bytes`);
    return bytes;
  });
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
