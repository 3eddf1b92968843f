import { type AddressBytes, isAddressBytes } from "../shared/address.js";
import { TronDecodeError } from "./decode-error.js";

/** The largest int64; TRON amounts, times and limits are int64 on the wire. */
export const INT64_MAX = (1n << 63n) - 1n;

/** Throws `bad_address` unless `bytes` is 21 bytes starting 0x41. */
export function checkAddress(bytes: Uint8Array, path: string): AddressBytes {
  if (!(bytes instanceof Uint8Array) || !isAddressBytes(bytes)) {
    throw new TronDecodeError("bad_address", `${path} is not a 21-byte address starting 0x41`);
  }
  return bytes;
}

/** Throws `bad_value` unless `v` is a bigint in 0..2^63-1 (negatives are never valid here). */
export function checkInt64(v: bigint, path: string): bigint {
  if (typeof v !== "bigint" || v < 0n || v > INT64_MAX) {
    throw new TronDecodeError("bad_value", `${path} must be an integer in 0..2^63-1`);
  }
  return v;
}

/** Throws `bad_value` unless `bytes` has exactly `length` bytes. */
export function checkLength(bytes: Uint8Array, length: number, path: string): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new TronDecodeError("bad_value", `${path} must be ${length} bytes`);
  }
  return bytes;
}

/** Byte-wise equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
