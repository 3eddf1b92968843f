import { AppError } from "../../shared/errors.js";
import type { RefBlock } from "../../tron/block.js";
import type { DecodedContract, TxRaw } from "../../tron/transaction.js";
import { bytesEqual } from "../../tron/values.js";

/** Everything a built transaction must be, field by field. */
export interface ExpectedTx {
  contract: DecodedContract;
  feeLimit: bigint;
  expiration: bigint;
  timestamp: bigint;
  ref: RefBlock;
  /** raw.data (memo); empty for none. */
  data: Uint8Array;
}

/**
 * Throws chain.build_failed unless the decoded transaction is exactly the expected one. The
 * builder (tronweb) is a large dependency; what it produced is never trusted unchecked.
 */
export function checkBuilt(raw: TxRaw, want: ExpectedTx): void {
  const mismatch = (field: string) =>
    new AppError("chain.build_failed", `built transaction differs from the request in ${field}`, {
      metadata: { field },
    });
  if (raw.contract.type !== want.contract.type) throw mismatch("contract.type");
  const got = raw.contract as unknown as Record<string, unknown>;
  const wanted = want.contract as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(got), ...Object.keys(wanted)]);
  for (const key of keys) {
    if (!sameValue(got[key], wanted[key])) throw mismatch(`contract.${key}`);
  }
  if (raw.feeLimit !== want.feeLimit) throw mismatch("fee_limit");
  if (raw.expiration !== want.expiration) throw mismatch("expiration");
  if (raw.timestamp !== want.timestamp) throw mismatch("timestamp");
  if (!bytesEqual(raw.refBlockBytes, want.ref.refBlockBytes)) throw mismatch("ref_block_bytes");
  if (!bytesEqual(raw.refBlockHash, want.ref.refBlockHash)) throw mismatch("ref_block_hash");
  if (!bytesEqual(raw.data, want.data)) throw mismatch("data");
  if (raw.permissionId !== 0) throw mismatch("permission_id");
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return bytesEqual(a, b);
  return a === b;
}
