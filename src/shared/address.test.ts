import { sha256 } from "@noble/hashes/sha2.js";
import { base58, hex } from "@scure/base";
import { describe, expect, it } from "vitest";
import {
  isAddress,
  normalizeAddress,
  parseAddress,
  toBase58,
  toHex41,
  tryParseAddress,
} from "./address.js";
import { AppError } from "./errors.js";

// Public chain facts (TRON.md): the mainnet USDT contract and the owner/recipient of the
// mainnet TRX transfer quoted there.
const USDT_MAINNET = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
const OWNER_HEX = "415f2c42079ef9870cc37c19317ef5e37e51851bee";

describe("TRON addresses", () => {
  it("accepts a real base58check address and round-trips it through hex", () => {
    const bytes = parseAddress(USDT_MAINNET);
    expect(bytes.length).toBe(21);
    expect(bytes[0]).toBe(0x41);
    expect(toBase58(parseAddress(toHex41(bytes)))).toBe(USDT_MAINNET);
  });

  it("reads 41-hex in either case and writes the same base58 form", () => {
    const lower = normalizeAddress(OWNER_HEX);
    expect(normalizeAddress(OWNER_HEX.toUpperCase().replace(/^41/, "41"))).toBe(lower);
    expect(lower.startsWith("T")).toBe(true);
    expect(toHex41(parseAddress(lower))).toBe(OWNER_HEX);
  });

  it("rejects a base58 address whose checksum fails", () => {
    // Change one character in the middle: still base58, still 34 chars, wrong checksum.
    const i = 10;
    const swapped = USDT_MAINNET[i] === "a" ? "b" : "a";
    const bad = USDT_MAINNET.slice(0, i) + swapped + USDT_MAINNET.slice(i + 1);
    expect(isAddress(bad)).toBe(false);
    expect(() => parseAddress(bad)).toThrow(AppError);
  });

  it("rejects a well-checksummed payload with the wrong prefix byte", () => {
    const payload = hex.decode(`42${OWNER_HEX.slice(2)}`);
    const check = sha256(sha256(payload)).slice(0, 4);
    const text = base58.encode(new Uint8Array([...payload, ...check]));
    expect(tryParseAddress(text)).toBeUndefined();
  });

  it.each([
    "",
    "T",
    "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6",
    "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6tt",
    " TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
    "0x5f2c42079ef9870cc37c19317ef5e37e51851bee",
    "5f2c42079ef9870cc37c19317ef5e37e51851bee",
    "415f2c42079ef9870cc37c19317ef5e37e51851be",
    "415f2c42079ef9870cc37c19317ef5e37e51851bez",
    "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj0t",
  ])("rejects %j with address.invalid", (text) => {
    try {
      parseAddress(text, "recipient");
      expect.unreachable();
    } catch (err) {
      expect((err as AppError).reason).toBe("address.invalid");
      expect((err as AppError).metadata.field).toBe("recipient");
    }
  });

  it("refuses to write bytes that are not a 21-byte 0x41 address", () => {
    expect(() => toBase58(new Uint8Array(20))).toThrow(AppError);
    expect(() => toHex41(new Uint8Array(21))).toThrow(AppError);
  });
});
