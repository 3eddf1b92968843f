import http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  createConnectRouter,
  type Interceptor,
} from "@connectrpc/connect";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { Logger } from "../../shared/log.js";
import type { CoreTls } from "../auth/client-cert.js";
import { fastPathCodec, serveGrpcUnary } from "./grpc-unary.js";

/** A running core API server. */
export interface CoreServer {
  /** http(s)://host:port — Connect, gRPC and gRPC-Web on one HTTP/2 port (h2c, or TLS). */
  url: string;
  close(): Promise<void>;
}

const READ_MAX_BYTES = 4 * 1024 * 1024;

/**
 * The HTTP/2 request handler: connect-node's universal handlers (what connectNodeAdapter
 * builds), except that gRPC unary calls take the Connect unary path (grpc-unary.ts).
 */
function nodeHandler(options: Parameters<typeof serveCore>[0]) {
  const router = createConnectRouter({
    interceptors: options.interceptors,
    readMaxBytes: READ_MAX_BYTES,
    acceptCompression: [compressionGzip, compressionBrotli],
  });
  options.routes(router);
  const handlers = new Map(router.handlers.map((h) => [h.requestPath, h]));
  return (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    const uHandler = handlers.get((req.url ?? "").split("?", 1)[0] ?? "");
    if (!uHandler) {
      res.writeHead(404);
      res.end();
      return;
    }
    const uReq = universalRequestFromNodeRequest(req, res, undefined, options.contextValues?.(req));
    const codec = uHandler.method.methodKind === "unary" ? fastPathCodec(uReq.header) : undefined;
    const served = codec
      ? serveGrpcUnary(uReq, codec, uHandler, res, READ_MAX_BYTES)
      : uHandler(uReq).then((uRes) => universalResponseToNodeResponse(uRes, res));
    served.catch((err) => {
      if (ConnectError.from(err).code === Code.Aborted) return; // the client went away
      options.log?.error({ method: uHandler.method.name, err: String(err) }, "rpc answer failed");
      if (!res.stream.destroyed) res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
  };
}

/**
 * Serves the given routes over Connect, gRPC and gRPC-Web on one HTTP/2 port: cleartext by
 * default (core listens on loopback or a private network, and the edge faces out), or TLS
 * with optional client certificates for internal services that use mTLS (auth/client-cert.ts).
 */
export async function serveCore(options: {
  host: string;
  port: number;
  /** Serve TLS; with `ca`, ask for (but do not require) a client certificate. */
  tls?: CoreTls;
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  /** Per-request context values (e.g. the peer address for auth). */
  contextValues?: (req: http2.Http2ServerRequest) => ContextValues;
  /** Where a call that failed while its answer was written is reported. */
  log?: Logger;
}): Promise<CoreServer> {
  const tls = options.tls;
  const server = tls
    ? http2.createSecureServer(
        {
          cert: tls.cert,
          key: tls.key,
          ca: tls.ca,
          requestCert: tls.ca !== undefined,
          // Calls without a certificate still authenticate with an API key or a token.
          rejectUnauthorized: false,
          minVersion: "TLSv1.2",
        },
        nodeHandler(options),
      )
    : http2.createServer(nodeHandler(options));
  // A gRPC answer leaves in two writes (headers and message, then the trailers, which Node's
  // HTTP/2 asks for once the message is out); with Nagle on, the second small write waits for
  // the client's delayed ACK (~40 ms on Linux).
  server.on("connection", (socket: Socket) => socket.setNoDelay(true));
  // Larger HTTP/2 windows (initialWindowSize 1 MiB, a 16 MiB connection window) were tried for
  // grpc-js and left out: with them a 150 KB Connect request (a 1,001-item batch) stalled.
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `${tls ? "https" : "http"}://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        setTimeout(resolve, 2000).unref();
      }),
  };
}
