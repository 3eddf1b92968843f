import { describe, expect, it } from "vitest";
import { PayoutState } from "../gen/tronpay/v1/payout_pb.js";
import { enumName, enumValue, json, table } from "./output.js";

describe("table", () => {
  it("pads every column but the last to its widest cell", () => {
    const text = table(
      ["ID", "STATE", "AMOUNT"],
      [
        ["p-1", "CONFIRMED", "12.5"],
        ["p-22", "QUEUED", ""],
      ],
    );
    expect(text).toBe(
      ["ID    STATE      AMOUNT", "p-1   CONFIRMED  12.5", "p-22  QUEUED", ""].join("\n"),
    );
  });

  it("prints the header alone when there are no rows", () => {
    expect(table(["ID", "NAME"], [])).toBe("ID  NAME\n");
  });
});

describe("json", () => {
  it("writes bigints as decimal strings, indented, with a newline", () => {
    expect(json({ amount: 2n ** 63n - 1n, n: 1 })).toBe(
      '{\n  "amount": "9223372036854775807",\n  "n": 1\n}\n',
    );
  });
});

describe("enum names", () => {
  it("names a value, or shows the number of one it does not know", () => {
    expect(enumName(PayoutState, PayoutState.HELD)).toBe("HELD");
    expect(enumName(PayoutState, 99)).toBe("99");
  });

  it("looks a short name up case-insensitively, never the unspecified value", () => {
    expect(enumValue(PayoutState, " confirmed ")).toBe(PayoutState.CONFIRMED);
    expect(enumValue(PayoutState, "Awaiting_Approval")).toBe(PayoutState.AWAITING_APPROVAL);
    expect(enumValue(PayoutState, "unspecified")).toBeUndefined();
    expect(enumValue(PayoutState, "paid")).toBeUndefined();
  });
});
