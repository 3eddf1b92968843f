import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { Transaction_rawSchema } from "../gen/protocol/transaction_pb.js";
import {
  CONTRACT_TYPE_NUMBER,
  type ContractType,
  contractTypeOf,
  type DecodedContract,
  decodeContractParameter,
  encodeContractParameter,
} from "./contracts.js";
import { TronDecodeError } from "./decode-error.js";
import { bytesEqual, checkInt64, checkLength } from "./values.js";
import { bytesField, int64Field, type MessageSpec, readMessage, single } from "./wire.js";

export type { ContractType, DecodedContract, Resource } from "./contracts.js";
export { type TronDecodeCode, TronDecodeError } from "./decode-error.js";

/** The signed part of a TRON transaction with exactly one contract, in our types. */
export interface TxRaw {
  refBlockBytes: Uint8Array;
  refBlockHash: Uint8Array;
  expiration: bigint;
  timestamp: bigint;
  feeLimit: bigint;
  data: Uint8Array;
  contract: DecodedContract;
  permissionId: number;
}

/** A full transaction: its raw bytes (what the txID hashes), decoded raw, and signatures. */
export interface DecodedTransaction {
  rawBytes: Uint8Array;
  raw: TxRaw;
  txId: string;
  signatures: Uint8Array[];
}

/** The prefix of every contract parameter's Any type URL. */
export const TYPE_URL_PREFIX = "type.googleapis.com/protocol.";

const INT32_MAX = 2n ** 31n - 1n;

// Fields 3 (ref_block_num), 9 (auths) and 12 (scripts) exist in TRON's proto but are never
// set by tronweb or java-tron for ordinary transactions; a signer must not sign what it does
// not understand, so they are refused like unknown fields.
const RAW_SPEC: MessageSpec = {
  1: { name: "ref_block_bytes", kind: "bytes" },
  4: { name: "ref_block_hash", kind: "bytes" },
  8: { name: "expiration", kind: "varint" },
  10: { name: "data", kind: "bytes" },
  11: { name: "contract", kind: "bytes", repeated: true },
  14: { name: "timestamp", kind: "varint" },
  18: { name: "fee_limit", kind: "varint" },
};
// Contract fields 3 (provider) and 4 (ContractName) are likewise refused.
const CONTRACT_SPEC: MessageSpec = {
  1: { name: "type", kind: "varint" },
  2: { name: "parameter", kind: "bytes" },
  5: { name: "Permission_id", kind: "varint" },
};
const ANY_SPEC: MessageSpec = {
  1: { name: "type_url", kind: "bytes" },
  2: { name: "value", kind: "bytes" },
};
const TX_SPEC: MessageSpec = {
  1: { name: "raw_data", kind: "bytes" },
  2: { name: "signature", kind: "bytes", repeated: true },
  // Results are node output, not signed; accepted and ignored.
  5: { name: "ret", kind: "bytes", repeated: true },
};

/**
 * Strictly decodes `Transaction.raw` bytes. Throws TronDecodeError unless the bytes are
 * exactly what encodeTransactionRaw would write for the decoded value.
 */
export function decodeTransactionRaw(bytes: Uint8Array): TxRaw {
  const f = readMessage(bytes, RAW_SPEC, "raw");
  const contracts = f.get(11) ?? [];
  if (contracts.length !== 1) {
    throw new TronDecodeError("contract_count", `raw has ${contracts.length} contracts, want 1`);
  }
  const { contract, permissionId } = decodeContract(contracts[0]?.value as Uint8Array);
  const raw: TxRaw = {
    refBlockBytes: checkLength(bytesField(f, 1), 2, "raw.ref_block_bytes"),
    refBlockHash: checkLength(bytesField(f, 4), 8, "raw.ref_block_hash"),
    expiration: int64Field(f, 8, "raw.expiration"),
    timestamp: int64Field(f, 14, "raw.timestamp"),
    feeLimit: int64Field(f, 18, "raw.fee_limit"),
    data: bytesField(f, 10),
    contract,
    permissionId,
  };
  // Non-minimal varints, out-of-order fields and explicit defaults all decode to a value
  // that re-encodes differently; refusing them keeps one txID per meaning.
  if (!bytesEqual(encodeTransactionRaw(raw), bytes)) {
    throw new TronDecodeError("non_canonical", "raw is not in canonical proto3 encoding");
  }
  return raw;
}

function decodeContract(bytes: Uint8Array): { contract: DecodedContract; permissionId: number } {
  const f = readMessage(bytes, CONTRACT_SPEC, "raw.contract");
  const typeNo = (single(f, 1)?.value as bigint | undefined) ?? 0n;
  const type = typeNo <= 0xffffn ? contractTypeOf(Number(typeNo)) : undefined;
  if (!type)
    throw new TronDecodeError("unknown_contract", `contract type ${typeNo} is not supported`);
  const any = readMessage(bytesField(f, 2), ANY_SPEC, "raw.contract.parameter");
  const url = decodeUtf8(bytesField(any, 1));
  if (url !== TYPE_URL_PREFIX + type) {
    throw new TronDecodeError(
      "type_mismatch",
      `type_url ${JSON.stringify(url)} does not match ${type}`,
    );
  }
  const permission = (single(f, 5)?.value as bigint | undefined) ?? 0n;
  if (permission > INT32_MAX) {
    throw new TronDecodeError("bad_value", "raw.contract.Permission_id out of range");
  }
  return {
    contract: decodeContractParameter(type, bytesField(any, 2)),
    permissionId: Number(permission),
  };
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new TronDecodeError("type_mismatch", "type_url is not UTF-8");
  }
}

/** Encodes TxRaw as deterministic proto3; refuses values the decoder would refuse. */
export function encodeTransactionRaw(raw: TxRaw): Uint8Array {
  const type: ContractType = raw.contract.type;
  const typeNo = CONTRACT_TYPE_NUMBER[type];
  if (typeNo === undefined)
    throw new TronDecodeError("unknown_contract", `unsupported ${String(type)}`);
  if (
    !Number.isInteger(raw.permissionId) ||
    raw.permissionId < 0 ||
    raw.permissionId > 2 ** 31 - 1
  ) {
    throw new TronDecodeError("bad_value", "permissionId must be an integer in 0..2^31-1");
  }
  const msg = create(Transaction_rawSchema, {
    refBlockBytes: checkLength(raw.refBlockBytes, 2, "raw.ref_block_bytes"),
    refBlockHash: checkLength(raw.refBlockHash, 8, "raw.ref_block_hash"),
    expiration: checkInt64(raw.expiration, "raw.expiration"),
    data: raw.data,
    contract: [
      {
        type: typeNo,
        parameter: {
          typeUrl: TYPE_URL_PREFIX + type,
          value: encodeContractParameter(raw.contract),
        },
        PermissionId: raw.permissionId,
      },
    ],
    timestamp: checkInt64(raw.timestamp, "raw.timestamp"),
    feeLimit: checkInt64(raw.feeLimit, "raw.fee_limit"),
  });
  return toBinary(Transaction_rawSchema, msg);
}

/** The txID: lowercase hex sha256 of the raw bytes. */
export function txIdOf(rawBytes: Uint8Array): string {
  return hex.encode(sha256(rawBytes));
}

/**
 * Strictly decodes a full `Transaction` (raw_data, signatures; `ret` is ignored). Every
 * signature must be 65 bytes.
 */
export function decodeTransaction(bytes: Uint8Array): DecodedTransaction {
  const f = readMessage(bytes, TX_SPEC, "transaction");
  const rawBytes = bytesField(f, 1);
  const raw = decodeTransactionRaw(rawBytes);
  const signatures = (f.get(2) ?? []).map((s) => s.value as Uint8Array);
  for (const sig of signatures) {
    if (sig.length !== 65) throw new TronDecodeError("bad_signature", "signature is not 65 bytes");
  }
  return { rawBytes, raw, txId: txIdOf(rawBytes), signatures };
}

/** Encodes a full `Transaction` from raw bytes and signatures (no `ret`). */
export function encodeTransaction(
  rawBytes: Uint8Array,
  signatures: readonly Uint8Array[],
): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).bytes(rawBytes);
  for (const sig of signatures) w.tag(2, WireType.LengthDelimited).bytes(sig);
  return w.finish();
}
