import { describe, expect, it } from "vitest";
import { CreatePayoutRequestSchema } from "../../gen/tronpay/v1/payout_pb.js";
import { AppError, reasonOf } from "../../shared/errors.js";
import { bodyToJson, isJsonContentType, parseJson } from "./body.js";

describe("body rules", () => {
  const body = '{"walletId":"w1","amount":{"asset":"ASSET_TRX","value":"1"}}';

  it.each([
    ["*", body, { walletId: "w1", amount: { asset: "ASSET_TRX", value: "1" } }],
    ["*", "", {}],
    ["amount", '{"asset":"ASSET_TRX","value":"1"}', { amount: { asset: "ASSET_TRX", value: "1" } }],
    ["wallet_id", '"w1"', { walletId: "w1" }],
    ["", "", {}],
    ["", "  \n", {}],
  ])("rule %j maps %j", (rule, text, expected) => {
    expect(bodyToJson(CreatePayoutRequestSchema, rule, text)).toEqual(expected);
  });

  it.each([
    ["*", "[1,2]", "must be a JSON object"],
    ["*", '"text"', "must be a JSON object"],
    ["", "{}", "takes no request body"],
    ["*", "{", "malformed JSON"],
  ])("rule %j refuses %j", (rule, text, message) => {
    expect(() => bodyToJson(CreatePayoutRequestSchema, rule, text)).toThrow(message);
  });
});

describe("parseJson", () => {
  it.each([
    ['{"a": }', "1", "7"],
    ['{"a": 1,\n "b" 2}', "2", "6"],
    ["[1, 2", "1", "6"],
  ])("says where %j fails (line %s, column %s)", (text, line, column) => {
    try {
      parseJson(text);
      expect.unreachable();
    } catch (err) {
      expect(reasonOf(err)).toBe("request.invalid");
      expect((err as AppError).metadata).toMatchObject({ line, column });
      expect((err as AppError).message).toContain(`line ${line}, column ${column}`);
    }
  });
});

describe("isJsonContentType", () => {
  it.each([
    ["application/json", true],
    ["application/json; charset=utf-8", true],
    ["Application/JSON", true],
    ["text/plain", false],
    ["application/x-www-form-urlencoded", false],
    [undefined, false],
  ])("%s → %s", (type, expected) => {
    expect(isJsonContentType(type)).toBe(expected);
  });
});

it("throws AppErrors", () => {
  expect(() => parseJson("{")).toThrow(AppError);
});
