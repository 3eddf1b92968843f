import { hex } from "@scure/base";
import { toHex41, tryParseAddress } from "../../shared/address.js";
import { RequestError } from "../http.js";

/** Reads an address parameter (41-hex or base58) as 41-hex; throws RequestError. */
export function addressParam(params: Readonly<Record<string, unknown>>, key: string): string {
  const v = params[key];
  const bytes = typeof v === "string" ? tryParseAddress(v) : undefined;
  if (!bytes) throw new RequestError(`${key} is not a valid TRON address`);
  return toHex41(bytes);
}

/** Reads a 64-hex transaction or block id parameter, lower-cased. */
export function idParam(params: Readonly<Record<string, unknown>>, key: string): string {
  const v = params[key];
  if (typeof v !== "string" || !/^(0x)?[0-9a-fA-F]{64}$/.test(v)) {
    throw new RequestError(`${key} must be 64 hex characters`);
  }
  return v.toLowerCase().replace(/^0x/, "");
}

/** Reads a hex bytes parameter (may be empty). */
export function hexParam(params: Readonly<Record<string, unknown>>, key: string): Uint8Array {
  const v = params[key] ?? "";
  if (typeof v !== "string" || !/^(0x)?([0-9a-fA-F]{2})*$/.test(v)) {
    throw new RequestError(`${key} must be hex`);
  }
  return hex.decode(v.toLowerCase().replace(/^0x/, ""));
}

/** Reads a non-negative int64 parameter (number or decimal string); 0 when absent. */
export function bigParam(params: Readonly<Record<string, unknown>>, key: string): bigint {
  const v = params[key];
  if (v === undefined || v === null || v === "") return 0n;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "string" && /^[0-9]{1,19}$/.test(v)) return BigInt(v);
  throw new RequestError(`${key} must be a non-negative integer`);
}

/** Hex of UTF-8 text, as java-tron writes `message` fields. */
export function hexText(text: string): string {
  return hex.encode(new TextEncoder().encode(text));
}
