import { create, toBinary } from "@bufbuild/protobuf";
import { DurationSchema, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorFromJson, errorToJson } from "@connectrpc/connect/protocol-connect";
import { describe, expect, it } from "vitest";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  RetryInfoSchema,
} from "../../gen/google/rpc/error_details_pb.js";
import { PayoutBatchItemErrorsSchema } from "../../gen/tronpay/v1/payout_pb.js";
import { AppError, toConnectError } from "../../shared/errors.js";
import { toHttpError } from "./errors.js";

/** An error as a Connect client receives it from core: details as bytes, headers as metadata. */
function received(err: ConnectError, headers: Record<string, string> = {}): ConnectError {
  const json = errorToJson(err, undefined);
  return errorFromJson(json, headers, new ConnectError("unparseable", Code.Internal));
}

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

  it("answers a connection to core broken mid-call (Aborted, no ErrorInfo) as 503, not 409", () => {
    const http = toHttpError(new ConnectError("stream reset", Code.Aborted));
    expect(http.status).toBe(503);
    expect(http.body).toMatchObject({
      code: Code.Unavailable,
      message: "service unavailable",
      details: [{ reason: "edge.core_unavailable" }],
    });
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

  it("keeps every detail core sent, each as JSON with @type, in order", () => {
    const fromCore = received(
      toConnectError(
        new AppError("payout.batch_invalid", "2 batch item(s) are invalid", {
          metadata: { field: "items", count: "2" },
          details: [
            {
              desc: PayoutBatchItemErrorsSchema,
              value: {
                errors: [
                  { index: 0, reason: "address.invalid", field: "items[0].recipient_address" },
                  { index: 2, reason: "money.invalid_amount", field: "items[2].amount.value" },
                ],
              },
            },
            {
              desc: BadRequestSchema,
              value: {
                fieldViolations: [
                  { field: "items[0].recipient_address", description: "bad checksum" },
                  { field: "items[2].amount.value", description: "not a decimal" },
                ],
              },
            },
            { desc: RetryInfoSchema, value: { retryDelay: durationFromMs(1500) } },
            { desc: DurationSchema, value: durationFromMs(2000) },
          ],
        }),
      ),
    );
    // As a Connect client sees them: bytes with a type name, not messages.
    expect(fromCore.details.every((d) => "type" in d)).toBe(true);
    const { status, body } = toHttpError(fromCore);
    expect(status).toBe(400);
    expect(body.details).toEqual([
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "payout.batch_invalid",
        domain: "tronpay",
        metadata: { field: "items", count: "2" },
      },
      {
        "@type": "type.googleapis.com/tronpay.v1.PayoutBatchItemErrors",
        errors: [
          { reason: "address.invalid", field: "items[0].recipient_address" },
          { index: 2, reason: "money.invalid_amount", field: "items[2].amount.value" },
        ],
      },
      {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        fieldViolations: [
          { field: "items[0].recipient_address", description: "bad checksum" },
          { field: "items[2].amount.value", description: "not a decimal" },
        ],
      },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "1.500s" },
      { "@type": "type.googleapis.com/google.protobuf.Duration", value: "2s" },
    ]);
  });

  it("keeps a detail of a type it does not know as base64 under value", () => {
    const info = create(ErrorInfoSchema, { reason: "payout.not_found", domain: "tronpay" });
    const err = new ConnectError("no payout", Code.NotFound);
    // As they arrive from the wire: type names and bytes.
    err.details = [
      { type: "google.rpc.ErrorInfo", value: toBinary(ErrorInfoSchema, info) },
      { type: "example.v1.Unknown", value: new Uint8Array([8, 1]) },
    ];
    expect(toHttpError(err).body.details).toEqual([
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "payout.not_found",
        domain: "tronpay",
        metadata: {},
      },
      { "@type": "type.googleapis.com/example.v1.Unknown", value: "CAE=" },
    ]);
  });

  it("maps core's rate-limit refusal to 429 with Retry-After and RateLimit-* headers", () => {
    const refused = new AppError("auth.rate_limited", "too many requests; retry later", {
      metadata: { retry_after_ms: "2400", limit: "120" },
    });
    // Core sets retry-after (seconds) as a response header; it wins over retry_after_ms.
    const viaHeader = toHttpError(received(toConnectError(refused), { "retry-after": "4" }));
    expect(viaHeader.status).toBe(429);
    expect(viaHeader.headers).toEqual({
      "retry-after": "4",
      "ratelimit-limit": "120",
      "ratelimit-remaining": "0",
      "ratelimit-reset": "4",
    });
    // Without the header, retry_after_ms is rounded up to whole seconds.
    expect(toHttpError(received(toConnectError(refused))).headers["retry-after"]).toBe("3");
    // The edge's own refusal (an AppError) gets the same headers.
    expect(toHttpError(refused).headers["retry-after"]).toBe("3");
    // No Retry-After on other errors.
    expect(toHttpError(new AppError("request.invalid", "m")).headers).toEqual({});
  });
});
