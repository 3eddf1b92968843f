import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AppError, toConnectError } from "../../shared/errors.js";
import { toHttpError } from "./errors.js";

describe("toHttpError", () => {
  it.each([
    ["request.invalid", 400],
    ["request.not_found", 404],
    ["auth.unauthenticated", 401],
    ["auth.permission_denied", 403],
    ["auth.rate_limited", 429],
    ["payout.invalid_state", 400],
    ["request.method_not_allowed", 405],
    ["request.too_large", 413],
    ["request.unsupported_media_type", 415],
    ["edge.overloaded", 503],
    ["internal", 500],
  ] as const)("answers %s with HTTP %i", (reason, status) => {
    const answer = toHttpError(new AppError(reason, "m", { metadata: { field: "x" } }));
    expect(answer.status).toBe(status);
    expect(answer.body.details).toEqual([
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason,
        domain: "tronpay",
        metadata: { field: "x" },
      },
    ]);
  });

  it("keeps the reason and message of core's errors (ConnectError with our ErrorInfo)", () => {
    const fromCore = toConnectError(new AppError("payout.not_found", "no payout p_1"));
    const answer = toHttpError(fromCore);
    expect(answer).toMatchObject({
      status: 404,
      body: {
        code: Code.NotFound,
        message: "no payout p_1",
        details: [{ reason: "payout.not_found" }],
      },
    });
  });

  it("hides the message of errors without our ErrorInfo (it may name internal hosts)", () => {
    const answer = toHttpError(
      new ConnectError("connect ECONNREFUSED 10.0.0.7:8090", Code.Unavailable),
    );
    expect(answer.status).toBe(503);
    expect(JSON.stringify(answer.body)).not.toContain("10.0.0.7");
    expect(answer.body.details[0]?.reason).toBe("edge.core_unavailable");
  });

  it("ignores ErrorInfo from another domain", () => {
    const info = create(ErrorInfoSchema, { reason: "SECRET_THING", domain: "example.com" });
    const err = new ConnectError("db at 10.1.1.1 failed", Code.Internal, undefined, [
      { desc: ErrorInfoSchema, value: info },
    ]);
    const answer = toHttpError(err);
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({ code: Code.Internal, message: "internal error", details: [] });
  });

  it("answers anything else as internal with no detail of it", () => {
    const answer = toHttpError(new Error("stack at /srv/app.ts:1"));
    expect(answer.status).toBe(500);
    expect(JSON.stringify(answer.body)).not.toContain("/srv");
  });
});
