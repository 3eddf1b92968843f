import { fromJson } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import {
  ListApiKeysRequestSchema,
  QueryAuditLogRequestSchema,
} from "../../gen/tronpay/v1/admin_pb.js";
import { ListPayoutsRequestSchema, PayoutState } from "../../gen/tronpay/v1/payout_pb.js";
import { reasonOf } from "../../shared/errors.js";
import { applyQuery, type JsonObject, setFieldPath } from "./query.js";

function listFrom(query: string) {
  const json: JsonObject = {};
  applyQuery(json, ListPayoutsRequestSchema, new URLSearchParams(query));
  return fromJson(ListPayoutsRequestSchema, json as never);
}

describe("query parameters", () => {
  it.each([
    [
      "states=PAYOUT_STATE_QUEUED&states=PAYOUT_STATE_SIGNED",
      [PayoutState.QUEUED, PayoutState.SIGNED],
    ],
    [`states=${PayoutState.CONFIRMED}`, [PayoutState.CONFIRMED]],
  ])("reads repeated enums by name or number: %s", (query, states) => {
    expect(listFrom(query).states).toEqual(states);
  });

  it.each([["page.page_size=5"], ["page.pageSize=5"]])("nests by proto or JSON name: %s", (q) => {
    expect(listFrom(q).page?.pageSize).toBe(5);
  });

  it("reads Timestamps as RFC 3339", () => {
    const req = listFrom("created.start_time=2026-01-02T03:04:05Z");
    expect(req.created?.startTime && timestampMs(req.created.startTime)).toBe(
      Date.UTC(2026, 0, 2, 3, 4, 5),
    );
  });

  it("keeps 64-bit integers exact as strings", () => {
    const json: JsonObject = {};
    applyQuery(
      json,
      QueryAuditLogRequestSchema,
      new URLSearchParams("from_seq=18446744073709551615"),
    );
    expect(fromJson(QueryAuditLogRequestSchema, json as never).fromSeq).toBe(18446744073709551615n);
  });

  it.each([
    ["true", true],
    ["1", true],
    ["false", false],
    ["0", false],
  ])("reads bool %s", (text, value) => {
    const json: JsonObject = {};
    applyQuery(json, ListApiKeysRequestSchema, new URLSearchParams(`include_inactive=${text}`));
    expect(fromJson(ListApiKeysRequestSchema, json as never).includeInactive).toBe(value);
  });

  it("leaves a bad bool for fromJson to refuse", () => {
    const json: JsonObject = {};
    applyQuery(json, ListApiKeysRequestSchema, new URLSearchParams("include_inactive=maybe"));
    expect(() => fromJson(ListApiKeysRequestSchema, json as never)).toThrow(/include_inactive/);
  });

  it.each([
    ["nope=1", "nope"],
    ["page.nope=1", "page.nope"],
    ["page=1", "page"],
    ["wallet_id.x=1", "wallet_id.x"],
  ])("refuses %s naming the parameter", (query, field) => {
    try {
      listFrom(query);
      expect.unreachable();
    } catch (err) {
      expect(reasonOf(err)).toBe("request.invalid");
      expect((err as { metadata: Record<string, string> }).metadata.field).toBe(field);
    }
  });

  it("lets a path variable override what the body said", () => {
    const json: JsonObject = { walletId: "from-body" };
    setFieldPath(json, ListPayoutsRequestSchema, ["wallet_id"], "from-path", "override");
    expect(json.walletId).toBe("from-path");
  });
});
