import { describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors.js";
import { hexMessage, intField, nodeJsonBody, parseNodeJson } from "./node-json.js";

describe("node JSON", () => {
  it("keeps integers above 2^53 exact", () => {
    const o = parseNodeJson('{"balance": 9223372036854775807, "small": 3}') as Record<
      string,
      unknown
    >;
    expect(intField(o, "balance", "account")).toBe(9223372036854775807n);
    expect(intField(o, "small", "account")).toBe(3n);
    expect(intField(o, "absent", "account")).toBe(0n);
  });

  it("writes bigints as JSON integers", () => {
    expect(nodeJsonBody({ num: 12345678901234567890n })).toBe('{"num":12345678901234567890}');
  });

  it("refuses text that is not JSON and a fractional int64 with node.bad_response", () => {
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof AppError ? err.reason : "other";
      }
      return "none";
    };
    expect(reason(() => parseNodeJson("<html>502</html>"))).toBe("node.bad_response");
    expect(
      reason(() =>
        intField(parseNodeJson('{"fee":1.5}') as Record<string, unknown>, "fee", "info"),
      ),
    ).toBe("node.bad_response");
  });

  it("decodes hex UTF-8 messages and leaves plain text alone", () => {
    expect(hexMessage("4475702074782e")).toBe("Dup tx.");
    expect(hexMessage("not hex")).toBe("not hex");
    expect(hexMessage(undefined)).toBe("");
  });
});
