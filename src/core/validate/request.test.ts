import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  CreatePayoutBatchRequestSchema,
  CreatePayoutRequestSchema,
  ListPayoutsRequestSchema,
  type PayoutPriority,
  type PayoutState,
} from "../../gen/tronpay/v1/payout_pb.js";
import { AppError } from "../../shared/errors.js";
import { checkRequest, DEFAULT_MAX_LENGTH, maxLengthOf } from "./request.js";

function violations(f: () => void): string[] {
  try {
    f();
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    expect(err.reason).toBe("request.invalid");
    const bad = err.details.find((d) => d.desc === BadRequestSchema)?.value as {
      fieldViolations: { field: string }[];
    };
    return bad.fieldViolations.map((v) => v.field);
  }
  return [];
}

describe("request checks from the descriptors", () => {
  it("reads each field's max_length option, and the default for fields without one", () => {
    const memo = CreatePayoutRequestSchema.fields.find((f) => f.name === "memo");
    const wallet = CreatePayoutRequestSchema.fields.find((f) => f.name === "wallet_id");
    expect(memo && maxLengthOf(memo)).toBe(200);
    expect(wallet && maxLengthOf(wallet)).toBe(DEFAULT_MAX_LENGTH);
  });

  it("passes a request at its limits", () => {
    const req = create(CreatePayoutRequestSchema, {
      memo: "m".repeat(200),
      clientReference: "c".repeat(128),
      walletId: "w".repeat(DEFAULT_MAX_LENGTH),
      metadata: { k: "tab\tand newline\n are text" },
    });
    expect(violations(() => checkRequest(CreatePayoutRequestSchema, req))).toEqual([]);
  });

  it("lists every string over its limit or with a NUL, in nested lists, oneofs and maps", () => {
    const req = create(CreatePayoutBatchRequestSchema, {
      idempotencyKey: "k",
      items: [
        { itemReference: "ok" },
        {
          itemReference: "r".repeat(129),
          recipient: { case: "payeeTag", value: "t\u0000" },
          metadata: { "k\u0000": "v", ok: "x".repeat(DEFAULT_MAX_LENGTH + 1) },
        },
      ],
    });
    expect(violations(() => checkRequest(CreatePayoutBatchRequestSchema, req))).toEqual([
      "items[1].item_reference",
      "items[1].payee_tag",
      "items[1].metadata key",
      "items[1].metadata[ok]",
    ]);
  });

  it("refuses enum values the enum does not define, singular or repeated", () => {
    const req = create(ListPayoutsRequestSchema, { states: [1 as PayoutState, 99 as PayoutState] });
    expect(violations(() => checkRequest(ListPayoutsRequestSchema, req))).toEqual(["states[1]"]);
    const one = create(CreatePayoutRequestSchema, { priority: 7 as PayoutPriority });
    expect(violations(() => checkRequest(CreatePayoutRequestSchema, one))).toEqual(["priority"]);
  });
});
