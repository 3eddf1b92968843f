import { sha256 } from "@noble/hashes/sha2.js";
import { createBase58check, hex } from "@scure/base";
import { AppError } from "./errors.js";

/** TRON's mainnet address prefix byte. */
export const ADDRESS_PREFIX = 0x41;
/** Length of a TRON address in bytes: the 0x41 prefix and 20 bytes of key hash. */
export const ADDRESS_LENGTH = 21;

const base58check = createBase58check(sha256);

/** A TRON address as its 21 raw bytes (0x41 ‖ 20 bytes). */
export type AddressBytes = Uint8Array;

/**
 * Parses a TRON address written as base58check (`T…`, 34 chars) or as 42 hex chars starting
 * with `41`, and returns its 21 bytes. Throws AppError `address.invalid` on anything else,
 * including a failing checksum.
 */
export function parseAddress(text: string, field = "address"): AddressBytes {
  const bytes = tryParseAddress(text);
  if (!bytes) {
    throw new AppError("address.invalid", `${field} is not a valid TRON address`, {
      metadata: { field },
    });
  }
  return bytes;
}

/** Like parseAddress but returns undefined instead of throwing. */
export function tryParseAddress(text: string): AddressBytes | undefined {
  if (typeof text !== "string") return undefined;
  if (text.length === 34 && text[0] === "T") {
    let bytes: Uint8Array;
    try {
      bytes = base58check.decode(text);
    } catch {
      return undefined;
    }
    return isAddressBytes(bytes) ? bytes : undefined;
  }
  if (text.length === 42 && /^41[0-9a-fA-F]{40}$/.test(text)) {
    return hex.decode(text.toLowerCase());
  }
  return undefined;
}

/** True when `text` parses as a TRON address (base58check or 41-hex). */
export function isAddress(text: string): boolean {
  return tryParseAddress(text) !== undefined;
}

/** True for 21 bytes starting with the 0x41 prefix. */
export function isAddressBytes(bytes: Uint8Array): boolean {
  return bytes.length === ADDRESS_LENGTH && bytes[0] === ADDRESS_PREFIX;
}

/** Writes 21 address bytes as base58check (`T…`). */
export function toBase58(bytes: AddressBytes): string {
  assertAddressBytes(bytes);
  return base58check.encode(bytes);
}

/** Writes 21 address bytes as 42 lowercase hex chars (`41…`), java-tron's JSON form. */
export function toHex41(bytes: AddressBytes): string {
  assertAddressBytes(bytes);
  return hex.encode(bytes);
}

/** Normalizes any accepted address form to base58check; throws `address.invalid`. */
export function normalizeAddress(text: string, field = "address"): string {
  return toBase58(parseAddress(text, field));
}

function assertAddressBytes(bytes: Uint8Array): void {
  if (!isAddressBytes(bytes)) {
    throw new AppError("address.invalid", "not a 21-byte TRON address");
  }
}
