import { describe, expect, it } from "vitest";
import { toJson } from "./http.js";

describe("toJson", () => {
  it("writes int64 values above 2^53 as exact JSON numbers, as java-tron does", () => {
    const big = 2n ** 60n + 123n;
    expect(toJson({ balance: big, list: [1n, -5n] }, false)).toBe(
      '{"balance":1152921504606847099,"list":[1,-5]}',
    );
  });

  it("writes them as strings when asked (int64_as_string)", () => {
    expect(toJson({ balance: 2n ** 60n }, true)).toBe('{"balance":"1152921504606846976"}');
  });

  it("leaves ordinary strings alone", () => {
    expect(toJson({ s: "int64:5", n: 5 }, false)).toBe('{"s":"int64:5","n":5}');
  });
});
