import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppError } from "./errors.js";
import {
  formatAmount,
  formatChainAmount,
  MAX_BASE_UNITS,
  parseAmount,
  parseBaseUnits,
  parsePositiveAmount,
} from "./money.js";

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.reason : "not-an-app-error";
  }
  return undefined;
}

describe("parseAmount", () => {
  it.each([
    ["0", 0n],
    ["1", 1_000_000n],
    ["12.5", 12_500_000n],
    ["0.000001", 1n],
    ["100.123456", 100_123_456n],
    ["9223372036854.775807", MAX_BASE_UNITS],
  ])("reads %s as %s base units", (text, expected) => {
    expect(parseAmount(text)).toBe(expected);
  });

  it.each([
    "1e3",
    "-1",
    "+1",
    "0.0000001",
    "NaN",
    "Infinity",
    " 1",
    "1 ",
    "1\n",
    "",
    ".5",
    "5.",
    "01",
    "1,5",
    "0x10",
    "１",
    "1.2.3",
  ])("rejects %j as money.invalid_amount", (text) => {
    expect(reasonOf(() => parseAmount(text))).toBe("money.invalid_amount");
  });

  it("rejects values above 2^63-1 base units as money.out_of_range", () => {
    expect(reasonOf(() => parseAmount("9223372036854.775808"))).toBe("money.out_of_range");
    expect(reasonOf(() => parseAmount("99999999999999999999"))).toBe("money.out_of_range");
  });

  it("rejects non-strings such as numbers, which could be floats", () => {
    expect(reasonOf(() => parseAmount(1.5))).toBe("money.invalid_amount");
    expect(reasonOf(() => parseAmount(undefined))).toBe("money.invalid_amount");
  });

  it("names the offending field in the error metadata", () => {
    try {
      parseAmount("x", "items[3].amount");
      expect.unreachable();
    } catch (err) {
      expect((err as AppError).metadata.field).toBe("items[3].amount");
    }
  });
});

describe("parsePositiveAmount", () => {
  it("rejects zero but accepts one base unit", () => {
    expect(reasonOf(() => parsePositiveAmount("0"))).toBe("money.out_of_range");
    expect(reasonOf(() => parsePositiveAmount("0.000000"))).toBe("money.out_of_range");
    expect(parsePositiveAmount("0.000001")).toBe(1n);
  });
});

describe("formatAmount", () => {
  it.each([
    [0n, "0"],
    [1n, "0.000001"],
    [1_000_000n, "1"],
    [12_500_000n, "12.5"],
    [MAX_BASE_UNITS, "9223372036854.775807"],
  ])("writes %s base units as %s", (value, expected) => {
    expect(formatAmount(value)).toBe(expected);
  });

  it("refuses negative and oversized values", () => {
    expect(reasonOf(() => formatAmount(-1n))).toBe("money.out_of_range");
    expect(reasonOf(() => formatAmount(MAX_BASE_UNITS + 1n))).toBe("money.out_of_range");
  });

  it("writes chain amounts above int64 (a TRC-20 transfer) only through formatChainAmount", () => {
    expect(formatChainAmount(2n ** 256n - 1n)).toBe(`${(2n ** 256n - 1n) / 1_000_000n}.639935`);
    expect(formatChainAmount(12_500_000n)).toBe("12.5");
    expect(reasonOf(() => formatChainAmount(-1n))).toBe("money.out_of_range");
  });

  it("round-trips every amount in range", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_BASE_UNITS }), (value) => {
        expect(parseAmount(formatAmount(value))).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("parseBaseUnits", () => {
  it("reads integer base units and rejects anything else", () => {
    expect(parseBaseUnits("1000000")).toBe(1_000_000n);
    for (const bad of ["-1", "1.0", "01", "", "1e6", " 1"]) {
      expect(reasonOf(() => parseBaseUnits(bad))).toBe("money.invalid_amount");
    }
    expect(reasonOf(() => parseBaseUnits("9223372036854775808"))).toBe("money.out_of_range");
  });
});
