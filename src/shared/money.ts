import { AppError } from "./errors.js";

/**
 * The one money module. Amounts are integers of base units (`bigint`): sun for TRX, 10^-6 USDT
 * for USDT — both assets have 6 decimals. On the wire they are decimal strings in whole units.
 * Nothing here ever touches a float.
 */

/** Fractional digits of TRX (sun) and USDT. */
export const DECIMALS = 6;
/** Base units per whole unit (1 TRX = 1,000,000 sun). */
export const UNIT = 10n ** BigInt(DECIMALS);
/** The largest amount we accept: int64's maximum, which TRON's int64 fields can hold. */
export const MAX_BASE_UNITS = 2n ** 63n - 1n;

const DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]{1,6}))?$/;

/**
 * Parses a decimal string ("12.5", "0.000001") to base units. Strict: rejects signs,
 * exponents, whitespace, empty parts (".5", "5."), leading zeros ("01"), more than 6
 * fractional digits and values above 2^63-1 base units, with `money.invalid_amount` or
 * `money.out_of_range`. Zero is allowed here; use parsePositiveAmount where it is not.
 */
export function parseAmount(text: unknown, field = "amount"): bigint {
  if (typeof text !== "string") {
    throw new AppError("money.invalid_amount", `${field} must be a decimal string`, {
      metadata: { field },
    });
  }
  const match = DECIMAL.exec(text);
  if (!match) {
    throw new AppError(
      "money.invalid_amount",
      `${field} must be a decimal string with at most ${DECIMALS} fractional digits`,
      { metadata: { field } },
    );
  }
  const whole = BigInt(match[1] ?? "0");
  const fraction = BigInt((match[2] ?? "").padEnd(DECIMALS, "0"));
  const value = whole * UNIT + fraction;
  if (value > MAX_BASE_UNITS) {
    throw new AppError("money.out_of_range", `${field} is too large`, { metadata: { field } });
  }
  return value;
}

/** Parses a decimal string that must be greater than zero (see parseAmount). */
export function parsePositiveAmount(text: unknown, field = "amount"): bigint {
  const value = parseAmount(text, field);
  if (value === 0n) {
    throw new AppError("money.out_of_range", `${field} must be greater than zero`, {
      metadata: { field },
    });
  }
  return value;
}

/**
 * Formats base units as the shortest decimal string ("12.5", "0.000001", "3"). Throws on
 * negative values or values above 2^63-1: those never reach the wire.
 */
export function formatAmount(baseUnits: bigint): string {
  if (baseUnits > MAX_BASE_UNITS) throw new AppError("money.out_of_range", "amount out of range");
  return formatChainAmount(baseUnits);
}

/**
 * formatAmount without the int64 bound, for amounts read from the chain: a TRC-20 transfer
 * may carry up to 2^256-1 base units. Throws on negative values.
 */
export function formatChainAmount(baseUnits: bigint): string {
  if (baseUnits < 0n) throw new AppError("money.out_of_range", "amount out of range");
  const whole = baseUnits / UNIT;
  const fraction = baseUnits % UNIT;
  if (fraction === 0n) return whole.toString();
  const digits = fraction.toString().padStart(DECIMALS, "0").replace(/0+$/, "");
  return `${whole}.${digits}`;
}

/**
 * Parses a base-unit integer written as a decimal string ("1000000"), as the signer's intent
 * carries it. Rejects signs, leading zeros and values above 2^63-1.
 */
export function parseBaseUnits(text: unknown, field = "amount"): bigint {
  if (typeof text !== "string" || !/^(0|[1-9][0-9]*)$/.test(text)) {
    throw new AppError("money.invalid_amount", `${field} must be an integer of base units`, {
      metadata: { field },
    });
  }
  const value = BigInt(text);
  if (value > MAX_BASE_UNITS) {
    throw new AppError("money.out_of_range", `${field} is too large`, { metadata: { field } });
  }
  return value;
}
