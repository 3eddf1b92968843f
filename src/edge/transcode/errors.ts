import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AppError, ERROR_DOMAIN } from "../../shared/errors.js";
import { refusalHeaders } from "../access/headers.js";
import { type DetailJson, detailsToJson } from "./details.js";

/** The google.rpc.Status JSON the REST side answers errors with. */
export interface StatusJson {
  /** The gRPC / Connect code number. */
  code: number;
  message: string;
  /**
   * Every detail of the error: first a google.rpc.ErrorInfo with our stable reason, then any
   * others core or the edge attached (google.rpc.BadRequest, google.rpc.RetryInfo,
   * tronpay.v1.PayoutBatchItemErrors, …), each as JSON with "@type".
   */
  details: DetailJson[];
}

/** An error ready to send: HTTP status, extra headers and the Status body. */
export interface HttpError {
  status: number;
  headers: Record<string, string>;
  body: StatusJson;
}

/**
 * HTTP statuses the REST layer itself decides, where the code table has no entry (405, 408,
 * 413, 415, 503 for load shedding); everything else comes from codeToHttpStatus.
 */
const STATUS_OVERRIDES: Record<string, number> = {
  "request.method_not_allowed": 405,
  "request.too_large": 413,
  "request.timeout": 408,
  "request.unsupported_media_type": 415,
  "edge.overloaded": 503,
};

/** Messages for errors without our ErrorInfo: theirs may name internal hosts, so never shown. */
const GENERIC: Partial<Record<Code, string>> = {
  [Code.Unavailable]: "service unavailable",
  [Code.DeadlineExceeded]: "deadline exceeded",
  [Code.Unimplemented]: "not implemented",
  [Code.Canceled]: "request canceled",
  [Code.ResourceExhausted]: "resource exhausted",
};

/**
 * Turns anything thrown while serving a REST request into the HTTP answer: AppErrors (the
 * edge's own) and core's ConnectErrors carrying our ErrorInfo keep their reason, message and
 * every detail; a refusal for too many requests gets Retry-After (and RateLimit-*) headers;
 * any other error gets a generic message for its code, so no internal detail leaks.
 */
export function toHttpError(err: unknown, headers: Record<string, string> = {}): HttpError {
  if (err instanceof AppError) {
    const status = STATUS_OVERRIDES[err.reason] ?? codeToHttpStatus(err.code);
    return {
      status,
      headers: { ...headers, ...refusalHeaders(err) },
      body: {
        code: err.code,
        message: err.message,
        details: [errorInfo(err.reason, err.metadata), ...detailsToJson(err.details)],
      },
    };
  }
  if (err instanceof ConnectError) {
    const info = err.findDetails(ErrorInfoSchema).find((d) => d.domain === ERROR_DOMAIN);
    const status = (info && STATUS_OVERRIDES[info.reason]) || codeToHttpStatus(err.code);
    if (info) {
      return {
        status,
        headers: { ...headers, ...refusalHeaders(err) },
        body: { code: err.code, message: err.rawMessage, details: detailsToJson(err.details) },
      };
    }
    // Core answers every refusal with our ErrorInfo; Aborted without it is the connection to
    // core breaking mid-call (core killed or restarting), not a conflict: the client should
    // retry with the same idempotency key, as for Unavailable.
    const unreachable =
      err.code === Code.Unavailable ||
      err.code === Code.DeadlineExceeded ||
      err.code === Code.Aborted;
    if (unreachable) {
      // Core unreachable or too slow: say so with our own reason.
      const code = err.code === Code.Aborted ? Code.Unavailable : err.code;
      return {
        status: codeToHttpStatus(code),
        headers,
        body: {
          code,
          message: GENERIC[code] ?? "service unavailable",
          details: [errorInfo("edge.core_unavailable", {})],
        },
      };
    }
    const message = GENERIC[err.code] ?? "internal error";
    return { status, headers, body: { code: err.code, message, details: [] } };
  }
  return {
    status: 500,
    headers,
    body: { code: Code.Internal, message: "internal error", details: [errorInfo("internal", {})] },
  };
}

function errorInfo(reason: string, metadata: Record<string, string>): DetailJson {
  return {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    reason,
    domain: ERROR_DOMAIN,
    metadata: { ...metadata },
  };
}
