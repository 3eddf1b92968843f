import { Code, ConnectError } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  endStreamFlag,
  endStreamToJson,
  errorToJson,
} from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { AppError, ERROR_DOMAIN, toConnectError } from "../shared/errors.js";
import { refusalHeaders } from "./access/headers.js";
import {
  API_HEADERS,
  type EdgeRequest,
  type EdgeResponse,
  header,
  sendHeadersOnly,
} from "./http.js";

/**
 * Answers a pass-through RPC that the edge refuses itself (auth, roles, limits) in the protocol
 * the client speaks, so its Connect, gRPC or gRPC-Web client reads the error as if core had
 * sent it: gRPC and gRPC-Web get a trailers-only answer (grpc-status, grpc-message and
 * grpc-status-details-bin in the headers), Connect unary a JSON error with the code's HTTP
 * status, Connect streaming an end-stream message. The encoders are connect-es's own
 * (exported for protocol implementations; the package version is pinned).
 */
export function sendRpcError(req: EdgeRequest, res: EdgeResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const error = clientError(err);
  const type = header(req, "content-type") ?? "";
  const extra = { ...API_HEADERS, ...refusalHeaders(error) };
  if (/^application\/grpc/i.test(type)) {
    // gRPC and gRPC-Web (also -text): HTTP 200 and the status in the (only) headers.
    const headers = setTrailerStatus(new Headers({ "content-type": type }), error);
    sendHeadersOnly(res, 200, { ...extra, ...Object.fromEntries(headers) });
    return;
  }
  if (/^application\/connect\+/i.test(type)) {
    const json = endStreamToJson(new Headers(), error, undefined);
    const body = encodeEnvelope(endStreamFlag, new TextEncoder().encode(JSON.stringify(json)));
    res.writeHead(200, { ...extra, "content-type": type });
    res.end(Buffer.from(body));
    return;
  }
  // Connect unary (application/json or application/proto, or a GET).
  const text = JSON.stringify(errorToJson(error, undefined));
  res.writeHead(codeToHttpStatus(error.code), {
    ...extra,
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** Messages for errors without our ErrorInfo: theirs may name internal hosts. */
const GENERIC: Partial<Record<Code, string>> = {
  [Code.Unimplemented]: "not implemented",
  [Code.ResourceExhausted]: "resource exhausted",
  [Code.Canceled]: "request canceled",
};

/**
 * The error as the client may see it: our reasons keep message and details, and only the
 * retry-after header of its metadata (a ConnectError from core's WhoAmI carries core's
 * response headers there, which are not this answer's); anything else is generic.
 */
function clientError(err: unknown): ConnectError {
  if (err instanceof AppError) return toConnectError(err);
  if (!(err instanceof ConnectError)) return new ConnectError("internal error", Code.Internal);
  const ours = err.findDetails(ErrorInfoSchema).some((d) => d.domain === ERROR_DOMAIN);
  if (ours) {
    const retryAfter = err.metadata.get("retry-after");
    const metadata = retryAfter === null ? undefined : { "retry-after": retryAfter };
    const copy = new ConnectError(err.rawMessage, err.code, metadata);
    copy.details = err.details;
    return copy;
  }
  if (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded) {
    return toConnectError(new AppError("edge.core_unavailable", "core is unavailable"));
  }
  const generic = GENERIC[err.code];
  return generic === undefined
    ? new ConnectError("internal error", Code.Internal)
    : new ConnectError(generic, err.code);
}
