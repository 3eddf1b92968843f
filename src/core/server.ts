import http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import type { ConnectRouter, ContextValues, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";

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
  const server = http2.createServer(handler);
  // gRPC answers are three writes (headers, message, trailers); with Nagle on, the last small
  // write waits for the client's delayed ACK (~40 ms on Linux). Connect's unary answer is one.
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
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        setTimeout(resolve, 2000).unref();
      }),
  };
}
