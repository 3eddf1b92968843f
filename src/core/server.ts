import http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import type { ConnectRouter, ContextValues, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";

const CONNECTION_WINDOW = 16 * 1024 * 1024;
const H2_SETTINGS: http2.Settings = { initialWindowSize: 1024 * 1024, maxConcurrentStreams: 1000 };

/** A running core API server. */
export interface CoreServer {
  /** http://host:port — Connect, gRPC and gRPC-Web on one HTTP/2 (h2c) port. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the given routes over Connect, gRPC and gRPC-Web on one cleartext HTTP/2 port. TLS
 * is not core's job: core listens on loopback or a private network, and the edge faces out.
 */
export async function serveCore(options: {
  host: string;
  port: number;
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  /** Per-request context values (e.g. the peer address for auth). */
  contextValues?: (req: http2.Http2ServerRequest) => ContextValues;
}): Promise<CoreServer> {
  const handler = connectNodeAdapter({
    routes: options.routes,
    interceptors: options.interceptors,
    contextValues: options.contextValues as never,
    readMaxBytes: 4 * 1024 * 1024,
  });
  const server = http2.createServer({ settings: H2_SETTINGS }, handler);
  // gRPC answers are three writes (headers, message, trailers); with Nagle on, the last small
  // write waits for the client's delayed ACK (~40 ms on Linux). Connect's unary answer is one.
  server.on("connection", (socket: Socket) => socket.setNoDelay(true));
  // The default 64 KiB connection window stalls many concurrent streams; grpc-js advertises
  // large windows and expects the peer to do the same.
  server.on("session", (session) => session.setLocalWindowSize(CONNECTION_WINDOW));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        setTimeout(resolve, 2000).unref();
      }),
  };
}
