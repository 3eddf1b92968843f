import { describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors.js";
import { decodePageToken, encodePageToken, pageSizeOf } from "./page.js";

describe("paging", () => {
  it("gives 50 rows for no size, the size asked up to 500, and 500 above", () => {
    expect([undefined, 0, 1, 499, 500, 501, 10_000].map(pageSizeOf)).toEqual([
      50, 50, 1, 499, 500, 500, 500,
    ]);
  });

  it("reads back the key parts of a token it made, by the listing's pattern", () => {
    const token = encodePageToken([1_700_000_000_123, "whk_abc"]);
    expect(token).not.toContain(":");
    expect(decodePageToken(token, /^(\d+):(whk_[a-z]+)$/)).toEqual(["1700000000123", "whk_abc"]);
    expect(decodePageToken("", /^(\d+)$/)).toBeUndefined();
  });

  it("refuses a token another listing made, or garbage, on page.page_token", () => {
    const other = encodePageToken(["some-tag"]);
    for (const token of [other, "%%%", encodePageToken([12, "x"])]) {
      let err: unknown;
      try {
        decodePageToken(token, /^(\d+):(whk_[a-z]+)$/);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).reason).toBe("request.invalid");
      expect((err as AppError).metadata).toEqual({ field: "page.page_token" });
    }
  });
});
