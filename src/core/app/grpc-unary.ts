import type { Http2ServerResponse } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  createAsyncIterable,
  encodeEnvelope,
  readAllBytes,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import {
  codeFromHttpStatus,
  errorFromJsonBytes,
  trailerDemux,
} from "@connectrpc/connect/protocol-connect";
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";

/**
 * gRPC unary calls answered through the Connect protocol's unary path.
 *
 * connect-node serves gRPC through its streaming pipeline even for unary methods (a chain of
 * async generators per call); measured on core's server, that doubles the server's CPU time per
 * call against a Connect unary call (bench/grpc-vs-connect.ts), which is what held gRPC clients
 * under 80 % of the Connect protocol's throughput. Here a plain gRPC unary request (one
 * uncompressed message, protobuf or JSON) is restated as the equivalent Connect unary request
 * and given to the same method handler, so interceptors, context values, limits and errors are
 * the ones every other call gets; its answer is restated as a gRPC response: the message in one
 * envelope, then trailers with the status (and, on error, the error's code, message, details
 * and metadata, where gRPC clients read them; response headers a handler set before failing go
 * there too). Everything else (compressed requests, streaming methods, gRPC-Web) takes
 * connect-node's own path; answers do not advertise compression, so clients send plain
 * messages. The bridge uses connect's protocol helpers, which are exported but marked
 * internal: the version is pinned and grpc-unary.test.ts checks what clients see.
 */

/** content-type of the gRPC request → the Connect unary content-type of the same codec. */
const CODECS: Record<string, string> = {
  "application/grpc": "application/proto",
  "application/grpc+proto": "application/proto",
  "application/grpc+json": "application/json",
};
/**
 * Transport headers that have no place in the restated Connect request: gRPC's own, and any
 * Connect ones a gRPC client sent (only what the gRPC request says may reach the handler).
 */
const DROPPED = [
  "content-type",
  "content-length",
  "content-encoding",
  "accept-encoding",
  "te",
  "grpc-timeout",
  "grpc-encoding",
  "grpc-accept-encoding",
  "connect-protocol-version",
  "connect-timeout-ms",
  "connect-content-encoding",
  "connect-accept-encoding",
];

/** The Connect content-type when this request can take the fast path, else undefined. */
export function fastPathCodec(header: Headers): string | undefined {
  const contentType = (header.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  const codec = CODECS[contentType ?? ""];
  const encoding = header.get("grpc-encoding");
  if (codec === undefined || (encoding !== null && encoding !== "identity")) return undefined;
  return codec;
}

/**
 * Serves one gRPC unary call through `handler` (the method's universal handler) and writes the
 * gRPC answer to `res`. `readMaxBytes` bounds the request message as it does for every call.
 */
export async function serveGrpcUnary(
  uReq: UniversalServerRequest,
  codec: string,
  handler: (req: UniversalServerRequest) => Promise<UniversalServerResponse>,
  res: Http2ServerResponse,
  readMaxBytes: number,
): Promise<void> {
  const contentType = uReq.header.get("content-type") ?? "application/grpc";
  let uRes: UniversalServerResponse;
  try {
    const message = await readMessage(uReq, readMaxBytes);
    uRes = await handler({
      ...uReq,
      header: connectHeader(uReq.header, codec),
      body: createAsyncIterable([message]),
    });
  } catch (err) {
    return writeGrpc(res, contentType, new Headers(), undefined, ConnectError.from(err));
  }
  const body = uRes.body ? await readAllBytes(uRes.body, Number.MAX_SAFE_INTEGER) : undefined;
  const [header, trailer] = trailerDemux(uRes.header ?? new Headers());
  if (uRes.status === 200 && body !== undefined) {
    return writeGrpc(res, contentType, stripped(header), body, undefined, trailer);
  }
  // A Connect unary error: its JSON body, with its metadata in the headers.
  const fallback = new ConnectError(`HTTP ${uRes.status}`, codeFromHttpStatus(uRes.status));
  let error: ConnectError;
  try {
    error = errorFromJsonBytes(body ?? new Uint8Array(), stripped(header), fallback);
  } catch {
    error = fallback;
  }
  for (const [k, v] of trailer) error.metadata.append(k, v);
  return writeGrpc(res, contentType, new Headers(), undefined, error);
}

/** The one uncompressed message of a gRPC unary request, without its envelope. */
async function readMessage(uReq: UniversalServerRequest, readMaxBytes: number) {
  const timeout = parseTimeout(uReq.header.get("grpc-timeout"), Number.MAX_SAFE_INTEGER);
  if (timeout.error) throw timeout.error;
  if (!isIterable(uReq.body)) throw new ConnectError("unexpected request body", Code.Internal);
  const bytes = await readAllBytes(uReq.body, readMaxBytes + 5);
  if (bytes.byteLength < 5)
    throw new ConnectError(
      "protocol error: missing input message for unary method",
      Code.Unimplemented,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = view.getUint8(0);
  const length = view.getUint32(1);
  if ((flags & 0b1) !== 0)
    throw new ConnectError(
      "protocol error: compressed message without grpc-encoding",
      Code.Internal,
    );
  if (length > readMaxBytes)
    throw new ConnectError(
      `message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`,
      Code.ResourceExhausted,
    );
  if (bytes.byteLength !== 5 + length)
    throw new ConnectError(
      bytes.byteLength < 5 + length
        ? "protocol error: incomplete envelope"
        : "protocol error: received extra input message for unary method",
      bytes.byteLength < 5 + length ? Code.InvalidArgument : Code.Unimplemented,
    );
  return bytes.subarray(5);
}

/** The request headers restated for the Connect protocol (metadata passes through as is). */
function connectHeader(grpcHeader: Headers, codec: string): Headers {
  const header = new Headers(grpcHeader);
  for (const name of DROPPED) header.delete(name);
  header.set("content-type", codec);
  header.set("connect-protocol-version", "1");
  const { timeoutMs } = parseTimeout(grpcHeader.get("grpc-timeout"), Number.MAX_SAFE_INTEGER);
  // connect-timeout-ms has at most 10 digits; a longer gRPC timeout is as good as none.
  if (timeoutMs !== undefined)
    header.set("connect-timeout-ms", String(Math.min(Math.ceil(timeoutMs), 9_999_999_999)));
  return header;
}

/** Response headers without the Connect protocol's own fields. */
function stripped(header: Headers): Headers {
  const out = new Headers(header);
  for (const name of ["content-type", "content-length", "content-encoding", "accept-encoding"])
    out.delete(name);
  return out;
}

/**
 * Writes a gRPC response in one go: headers, the enveloped message (when there is one) and
 * trailers with the status.
 */
function writeGrpc(
  res: Http2ServerResponse,
  contentType: string,
  header: Headers,
  message: Uint8Array | undefined,
  error: ConnectError | undefined,
  trailer = new Headers(),
): void {
  if (res.headersSent || res.writableEnded || res.stream.destroyed) return; // client gone
  header.set("content-type", contentType);
  res.writeHead(200, toNode(header));
  res.addTrailers(toNode(setTrailerStatus(trailer, error)));
  if (message === undefined) res.end();
  else res.end(encodeEnvelope(0, message));
}

function toNode(header: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of header) out[k] = v;
  return out;
}

function isIterable(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === "object" && body !== null && Symbol.asyncIterator in body;
}
