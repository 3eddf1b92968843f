import { hex } from "@scure/base";
import { type TronDecodeCode, TronDecodeError } from "./decode-error.js";

/** Decodes hex of either case, with or without `0x`; throws TronDecodeError(`code`) if not hex. */
export function hexToBytes(
  text: string,
  what = "value",
  code: TronDecodeCode = "bad_value",
): Uint8Array {
  if (typeof text !== "string") throw new TronDecodeError(code, `${what} is not a hex string`);
  const body = /^0x/i.test(text) ? text.slice(2) : text;
  if (body.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(body)) {
    throw new TronDecodeError(code, `${what} is not hex`);
  }
  return hex.decode(body.toLowerCase());
}

/** Lowercase hex without prefix, java-tron's form. */
export function bytesToHex(bytes: Uint8Array): string {
  return hex.encode(bytes);
}
