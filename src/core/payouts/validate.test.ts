import { describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors.js";
import { checkPayoutFields, type PayoutInput } from "./validate.js";

// The mainnet USDT contract: any valid base58check address will do.
const ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";

const valid: PayoutInput = {
  walletId: "w-1",
  recipientAddress: ADDRESS,
  payeeTag: "",
  asset: "USDT",
  amount: "12.5",
  route: "V0",
  priority: 0,
  memo: "",
  clientReference: "ref-1",
  metadata: {},
  kycHash: "",
};

/** The error checkPayoutFields throws for `input`, with its BadRequest field violations. */
function violations(input: PayoutInput, field = "") {
  try {
    checkPayoutFields(input, field);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const detail = err.details[0]?.value as {
      fieldViolations: { field: string; reason: string }[];
    };
    return { reason: err.reason, fields: detail.fieldViolations.map((v) => v.field), err };
  }
  throw new Error("no violation");
}

describe("checkPayoutFields", () => {
  it("returns the amount in base units, the asset, the route and the normalized recipient", () => {
    expect(checkPayoutFields(valid)).toEqual({
      amount: 12_500_000n,
      asset: "USDT",
      route: "V0",
      recipientAddress: ADDRESS,
    });
  });

  it("leaves the recipient to the payee tag when a tag is given", () => {
    const out = checkPayoutFields({ ...valid, recipientAddress: "", payeeTag: "alice" });
    expect(out).toMatchObject({ recipientAddress: null, route: "V0" });
  });

  it("reports every bad field at once, the first one as the error", () => {
    const bad = violations({
      ...valid,
      walletId: "",
      asset: "",
      amount: "-1",
      route: "",
      priority: 9,
      memo: "m".repeat(201),
      clientReference: "r".repeat(129),
      metadata: { k: "v".repeat(501) },
    });
    expect(bad.reason).toBe("money.asset_unspecified");
    expect(bad.fields).toEqual([
      "amount.asset",
      "amount.value",
      "route",
      "priority",
      "memo",
      "client_reference",
      "metadata",
      "wallet_id",
    ]);
  });

  it("prefixes the fields of a batch item", () => {
    const bad = violations({ ...valid, walletId: "" }, "items[3].");
    expect(bad.fields).toEqual(["items[3].wallet_id"]);
    expect(bad.err.metadata.field).toBe("items[3].wallet_id");
  });

  it("wants exactly one of recipient address and payee tag", () => {
    expect(violations({ ...valid, payeeTag: "alice" }).fields).toEqual(["recipient"]);
    expect(violations({ ...valid, recipientAddress: "" }).fields).toEqual(["recipient"]);
  });

  it("refuses a malformed recipient address", () => {
    const bad = violations({ ...valid, recipientAddress: "T-not-an-address" });
    expect(bad.fields).toEqual(["recipient_address"]);
  });

  it("sends DIRECT payouts to payee tags only", () => {
    expect(violations({ ...valid, route: "DIRECT" }).fields).toEqual(["payee_tag"]);
    const byTag = { ...valid, route: "DIRECT" as const, recipientAddress: "", payeeTag: "bob" };
    expect(checkPayoutFields(byTag).route).toBe("DIRECT");
  });

  it("limits metadata to 20 keys of at most 40 characters", () => {
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, "v"]));
    expect(violations({ ...valid, metadata: many }).fields).toEqual(["metadata"]);
    expect(violations({ ...valid, metadata: { ["k".repeat(41)]: "v" } }).fields).toEqual([
      "metadata",
    ]);
    const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, "v"]));
    expect(checkPayoutFields({ ...valid, metadata: twenty }).amount).toBe(12_500_000n);
  });

  it("accepts the priorities 0 to 4 and the longest memo and reference", () => {
    for (const priority of [0, 4]) {
      const input = { ...valid, priority, memo: "m".repeat(200), clientReference: "r".repeat(128) };
      expect(checkPayoutFields(input).asset).toBe("USDT");
    }
    expect(violations({ ...valid, priority: -1 }).fields).toEqual(["priority"]);
  });
});
