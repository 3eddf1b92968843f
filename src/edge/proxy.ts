import http2 from "node:http2";
import {
  create,
  type DescMessage,
  type DescMethodUnary,
  fromBinary,
  isMessage,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport, type UnaryResponse } from "@connectrpc/connect";
import { codeFromHttpStatus, errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import { CLIENT_HEADER, CLIENT_MAC_HEADER } from "../shared/client-origin.js";
import { AppError } from "../shared/errors.js";
import {
  API_HEADERS,
  type EdgeRequest,
  type EdgeResponse,
  header,
  sendHeadersOnly,
} from "./http.js";

/** Content types of the RPC protocols core speaks itself (Connect, gRPC, gRPC-Web). */
const RPC_CONTENT_TYPE =
  /^application\/(connect\+(proto|json)|grpc(-web)?(-text)?(\+[a-z]+)?|proto|json)(;|$)/i;
/** Our public services' RPC paths: /tronpay.v1.PayoutService/CreatePayout. */
const RPC_PATH = /^\/tronpay\.v1\.[A-Za-z]+Service\/[A-Za-z]+$/;

/** Headers that belong to one hop and are never passed on (RFC 9110 §7.6.1, RFC 9113 §8.2.2). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "host",
  "http2-settings",
]);

/** True for a Connect, gRPC or gRPC-Web call on one of our services. */
export function isRpcRequest(req: EdgeRequest, path: string): boolean {
  if (!RPC_PATH.test(path)) return false;
  // Connect GET requests (idempotent RPCs) carry no content type; the path decides.
  if (req.method === "GET") return true;
  return RPC_CONTENT_TYPE.test(header(req, "content-type") ?? "");
}

/** A reverse proxy to core over one reused HTTP/2 session; headers and trailers kept. */
export class CoreProxy {
  private session: http2.ClientHttp2Session | undefined;

  constructor(
    private readonly coreUrl: string,
    private readonly maxBodyBytes: number,
    /** Options of every session to core (e.g. createConnection for another route there). */
    private readonly sessionOptions: http2.ClientSessionOptions = {},
  ) {}

  /**
   * Whether core answers: the standard gRPC health check (core lets it through without
   * credentials). A 404 means core runs without the health service, which still proves it is up.
   */
  probe(timeoutMs = 2_000): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const call = this.connect().request({
        ":method": "POST",
        ":path": "/grpc.health.v1.Health/Check",
        "content-type": "application/json",
        "connect-protocol-version": "1",
      });
      call.setTimeout(timeoutMs, () => {
        call.close(http2.constants.NGHTTP2_CANCEL);
        resolve(false);
      });
      let text = "";
      let status = 0;
      call.on("response", (headers) => {
        status = Number(headers[":status"]);
      });
      call.on("data", (chunk: Buffer) => {
        text += chunk.toString("utf8");
      });
      call.on("end", () =>
        resolve(
          status === 404 ||
            (status === 200 && text.includes("SERVING") && !text.includes("NOT_SERVING")),
        ),
      );
      call.on("error", () => resolve(false));
      call.end("{}");
    });
  }

  /**
   * Passes one RPC to core and its answer back, streaming both ways. `extra` are set on the
   * request to core (the edge's statement of the client's origin).
   */
  forward(req: EdgeRequest, res: EdgeResponse, extra: [string, string][] = []): Promise<void> {
    return new Promise<void>((resolve) => {
      const headers = requestHeaders(req);
      for (const [name, value] of extra) headers[name] = value;
      const upstream = this.connect().request(headers, { endStream: false });
      let sent = 0;
      req.on("data", (chunk: Buffer) => {
        sent += chunk.length;
        if (sent > this.maxBodyBytes) {
          upstream.close(http2.constants.NGHTTP2_CANCEL);
          fail(res, new AppError("request.too_large", "the request body is too large"));
        }
      });
      req.pipe(upstream);
      upstream.on("response", (headers, flags) => {
        const status = Number(headers[":status"] ?? 502);
        // Tokens and payouts pass here: never cached, never sniffed, whatever core sent.
        const out = { ...responseHeaders(headers), ...API_HEADERS };
        // A trailers-only answer (core's gRPC errors) stays one: see sendHeadersOnly.
        if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) sendHeadersOnly(res, status, out);
        else res.writeHead(status, out);
      });
      upstream.on("trailers", (trailers) => res.addTrailers(responseHeaders(trailers)));
      upstream.on("data", (chunk: Buffer) => {
        // A slow client slows core's stream down instead of filling the edge's memory.
        if (!(res as { write(c: Buffer): boolean }).write(chunk)) {
          upstream.pause();
          res.once("drain", () => upstream.resume());
        }
      });
      upstream.on("end", () => {
        res.end();
        resolve();
      });
      upstream.on("error", () => {
        fail(res, new AppError("edge.core_unavailable", "core is unavailable"));
        resolve();
      });
      res.once("close", () => {
        if (!upstream.closed) upstream.close(http2.constants.NGHTTP2_CANCEL);
        resolve();
      });
    });
  }

  /**
   * One unary call to core in the Connect protocol with binary protobuf, over the session the
   * pass-through uses: the request message's bytes in, the answer's bytes out, and none of a
   * client transport's per-call machinery (REST calls are one message each way; profiling
   * showed that machinery as most of the edge's own cost per call). A Connect error answer is
   * thrown as the ConnectError it encodes (core's reasons and details kept), no answer within
   * `timeoutMs` as deadline_exceeded, a failed stream as unavailable, an aborted `signal` (the
   * client went away) as canceled.
   */
  unary(
    path: string,
    headers: Headers,
    body: Uint8Array,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const out: http2.OutgoingHttpHeaders = {
        ":method": "POST",
        ":path": path,
        "content-type": "application/proto",
        "connect-protocol-version": "1",
        "connect-timeout-ms": String(timeoutMs),
      };
      headers.forEach((value, name) => {
        out[name] = value;
      });
      let call: http2.ClientHttp2Stream;
      try {
        call = this.connect().request(out);
      } catch {
        reject(new ConnectError("core is unavailable", Code.Unavailable));
        return;
      }
      const chunks: Buffer[] = [];
      let status = 0;
      let answer: http2.IncomingHttpHeaders = {};
      const finish = (err?: ConnectError) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        if (err) {
          if (!call.closed) call.close(http2.constants.NGHTTP2_CANCEL);
          reject(err);
        }
      };
      const timer = setTimeout(
        () => finish(new ConnectError("core did not answer in time", Code.DeadlineExceeded)),
        timeoutMs,
      );
      const onAbort = () => finish(new ConnectError("request canceled", Code.Canceled));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      call.on("response", (h) => {
        status = Number(h[":status"] ?? 0);
        answer = h;
      });
      call.on("data", (chunk: Buffer) => chunks.push(chunk));
      call.on("end", () => {
        finish();
        const bytes = Buffer.concat(chunks);
        if (status === 200 && answer["content-type"] === "application/proto") {
          resolve(bytes);
          return;
        }
        const metadata = new Headers();
        for (const [name, value] of Object.entries(responseHeaders(answer)))
          for (const v of Array.isArray(value) ? value : [value]) metadata.append(name, v);
        const fallback = new ConnectError(
          `core answered HTTP ${status}`,
          codeFromHttpStatus(status),
          metadata,
        );
        reject(
          (answer["content-type"] ?? "").startsWith("application/json")
            ? errorFromJsonBytes(bytes, metadata, fallback)
            : fallback,
        );
      });
      call.on("error", () => finish(new ConnectError("core is unavailable", Code.Unavailable)));
      call.end(body);
    });
  }

  /** Closes the session to core. */
  close(): void {
    this.session?.close();
  }

  private connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = http2.connect(this.coreUrl, this.sessionOptions);
    // A broken session is dropped and the next call opens a new one.
    session.on("error", () => session.destroy());
    session.on("goaway", () => session.close());
    session.unref();
    this.session = session;
    return session;
  }
}

function requestHeaders(req: EdgeRequest): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {
    ":method": req.method ?? "POST",
    ":path": req.url ?? "/",
  };
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(":") || HOP_BY_HOP.has(name) || value === undefined) continue;
    // Only the edge states a client's origin; a client's own claim is dropped.
    if (name === CLIENT_HEADER || name === CLIENT_MAC_HEADER) continue;
    // "te: trailers" is the one TE value HTTP/2 allows, and gRPC requires it.
    if (name === "te" && value !== "trailers") continue;
    out[name] = value;
  }
  return out;
}

function responseHeaders(headers: http2.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || HOP_BY_HOP.has(name) || value === undefined) continue;
    out[name] = value;
  }
  return out;
}

/** An RPC-level failure in the proxy: a plain status, since the client's protocol varies. */
function fail(res: EdgeResponse, err: AppError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = err.reason === "request.too_large" ? 413 : 502;
  res.writeHead(status, { ...API_HEADERS, "content-type": "application/json" });
  res.end(JSON.stringify({ code: err.code, message: err.message }));
}

/**
 * The edge's transport to core: unary calls as binary protobuf over the proxy's HTTP/2 session
 * (CoreProxy.unary: encode, one request, decode), streams through `streams` (a Connect
 * transport). A REST call, WhoAmI included, is one message each way; a Connect client
 * transport's per-call work (linked abort signals, deadline signal, the error it builds to
 * clean up) was most of what the edge itself spent on a call.
 */
export function binaryUnaryTransport(proxy: CoreProxy, streams: Transport): Transport {
  return {
    async unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: ConstructorParameters<typeof Headers>[0],
      input: MessageInitShape<I>,
    ): Promise<UnaryResponse<I, O>> {
      const request = isMessage(input, method.input) ? input : create(method.input, input);
      const bytes = await proxy.unary(
        `/${method.parent.typeName}/${method.name}`,
        new Headers(header),
        toBinary(method.input, request),
        timeoutMs ?? DEFAULT_TIMEOUT_MS,
        signal ?? new AbortController().signal,
      );
      let message: MessageShape<O>;
      try {
        message = fromBinary(method.output, bytes);
      } catch (cause) {
        throw new ConnectError(
          "core's answer does not parse",
          Code.Internal,
          undefined,
          undefined,
          cause,
        );
      }
      return {
        stream: false,
        service: method.parent,
        method,
        header: new Headers(),
        trailer: new Headers(),
        message,
      };
    },
    stream: (method, signal, timeoutMs, header, input, contextValues) =>
      streams.stream(method, signal, timeoutMs, header, input, contextValues),
  };
}

/** A unary call to core without a deadline of its own still ends (ms). */
const DEFAULT_TIMEOUT_MS = 30_000;
