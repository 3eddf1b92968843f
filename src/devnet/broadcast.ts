import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { toHex41 } from "../shared/address.js";
import { TronDecodeError } from "../tron/decode-error.js";
import {
  decodeTransactionRaw,
  encodeTransaction,
  type TxRaw,
  txIdOf,
} from "../tron/transaction.js";
import type { Chain } from "./chain.js";
import { BandwidthError, type ExecParams, executeTransaction, ValidateError } from "./execute.js";
import { bandwidthBytes } from "./fees.js";
import { signerOf } from "./sigcheck.js";
import { WorldState } from "./state.js";
import { TrackedState } from "./store.js";
import type { TxRecord } from "./tx-record.js";

/** java-tron's broadcast failure codes (TRON.md). */
export type BroadcastCode =
  | "SIGERROR"
  | "CONTRACT_VALIDATE_ERROR"
  | "CONTRACT_EXE_ERROR"
  | "BANDWITH_ERROR"
  | "DUP_TRANSACTION_ERROR"
  | "TAPOS_ERROR"
  | "TOO_BIG_TRANSACTION_ERROR"
  | "TRANSACTION_EXPIRATION_ERROR"
  | "SERVER_BUSY"
  | "OTHER_ERROR";

/** A refused broadcast; the message is plain text (hex-encoded on the wire). */
export class BroadcastError extends Error {
  constructor(
    readonly code: BroadcastCode,
    message: string,
  ) {
    super(message);
  }
}

const MAX_TX_BYTES = 500 * 1024;
const MAX_EXPIRATION_AHEAD_MS = 24 * 60 * 60 * 1000;
const MIN_EXPIRATION_AHEAD_MS = 3000;

/**
 * Validates a signed transaction in java-tron's order (TaPoS, size, expiration against the
 * head block's time, duplicate, signature), executes it into the head state and pools it.
 * With `dryRun` the state is rolled back and nothing is pooled (a dropped broadcast).
 * `decoded` may carry rawBytes already decoded (by the JSON reader) to save decoding twice.
 * Returns the txID; throws BroadcastError.
 */
export function acceptTransaction(
  chain: Chain,
  params: ExecParams,
  tx: { rawBytes: Uint8Array; signatures: readonly Uint8Array[]; decoded?: TxRaw },
  dryRun = false,
): string {
  const { rawBytes, signatures } = tx;
  const txId = txIdOf(rawBytes);
  const raw = tx.decoded ?? decodeRaw(rawBytes);
  if (!chain.taposMatches(raw.refBlockBytes, raw.refBlockHash)) {
    throw new BroadcastError("TAPOS_ERROR", "Tapos check error");
  }
  const encoded = encodeTransaction(rawBytes, signatures);
  if (encoded.length > MAX_TX_BYTES) {
    throw new BroadcastError(
      "TOO_BIG_TRANSACTION_ERROR",
      `Too big transaction, the size is ${encoded.length} bytes`,
    );
  }
  checkExpiration(raw, chain.head.timestamp);
  if (chain.data.txs.has(txId))
    throw new BroadcastError("DUP_TRANSACTION_ERROR", `dup trans : ${txId} `);
  checkSignature(txId, raw, signatures);
  const tracked = new TrackedState(chain.data.head);
  const bytes = bandwidthBytes(
    rawBytes.length,
    signatures.map((s) => s.length),
  );
  let outcome: ReturnType<typeof executeTransaction>;
  try {
    outcome = executeTransaction(new WorldState(tracked), raw, bytes, chain.head.timestamp, params);
  } catch (err) {
    tracked.rollback();
    throw toBroadcastError(err);
  }
  if (dryRun) {
    tracked.rollback();
    return txId;
  }
  const record: TxRecord = {
    ...outcome,
    txId,
    rawHex: hex.encode(rawBytes),
    signatures: signatures.map((s) => hex.encode(s)),
    leaf: hex.encode(sha256(encoded)),
    contractType: raw.contract.type,
    blockNumber: -1,
    blockTimestamp: 0,
  };
  chain.data.txs.set(txId, record);
  chain.enqueue({ tx: record, writes: tracked.commit() });
  return txId;
}

function decodeRaw(rawBytes: Uint8Array): TxRaw {
  try {
    return decodeTransactionRaw(rawBytes);
  } catch (err) {
    if (
      err instanceof TronDecodeError &&
      (err.code === "unknown_contract" || err.code === "contract_count")
    ) {
      throw new BroadcastError(
        "CONTRACT_VALIDATE_ERROR",
        `Contract validate error : ${err.message}`,
      );
    }
    throw new BroadcastError(
      "OTHER_ERROR",
      `transaction does not decode: ${(err as Error).message}`,
    );
  }
}

/**
 * java-tron refuses head < expiration ≤ head + 24 h at broadcast; a transaction expiring
 * before the next block slot (head + 3 s) it accepts but can never include. The devnet refuses
 * that case at broadcast too, since its pool holds only transactions it will include.
 */
function checkExpiration(raw: TxRaw, headTime: number): void {
  const expiration = Number(raw.expiration);
  if (
    expiration <= headTime ||
    expiration < headTime + MIN_EXPIRATION_AHEAD_MS ||
    expiration > headTime + MAX_EXPIRATION_AHEAD_MS
  ) {
    throw new BroadcastError(
      "TRANSACTION_EXPIRATION_ERROR",
      `Transaction expiration, transaction expiration time is ${expiration}, but headBlockTime is ${headTime}`,
    );
  }
}

function checkSignature(txId: string, raw: TxRaw, signatures: readonly Uint8Array[]): void {
  if (signatures.length !== 1) {
    throw new BroadcastError(
      "SIGERROR",
      `Validate signature error: ${signatures.length} signatures, want 1`,
    );
  }
  const owner = toHex41(raw.contract.owner);
  let signer: string;
  try {
    signer = signerOf(hex.decode(txId), signatures[0] as Uint8Array);
  } catch (err) {
    throw new BroadcastError("SIGERROR", `Validate signature error: ${(err as Error).message}`);
  }
  if (signer !== owner) {
    throw new BroadcastError(
      "SIGERROR",
      `Validate signature error: ${txId} is signed by ${signer} but it is not contained of permission.`,
    );
  }
}

function toBroadcastError(err: unknown): BroadcastError {
  if (err instanceof ValidateError) {
    return new BroadcastError(
      "CONTRACT_VALIDATE_ERROR",
      `Contract validate error : ${err.message}`,
    );
  }
  if (err instanceof BandwidthError) return new BroadcastError("BANDWITH_ERROR", err.message);
  return new BroadcastError("OTHER_ERROR", "internal error");
}
