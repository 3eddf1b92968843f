import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { Duplex } from "node:stream";
import type { EdgeRequest, EdgeResponse } from "./http.js";

/** Timeouts of the listener (ms). */
export interface ListenerTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** The HTTP/2 connection preface starts "PRI * HTTP/2.0". */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0");

/**
 * One port for HTTP/1.1 (REST from browsers and curl, Connect, gRPC-Web) and cleartext HTTP/2
 * with prior knowledge (gRPC): the first bytes of a connection pick the server. Node's
 * cleartext http2 server cannot fall back to HTTP/1.1 by itself.
 */
export function createDualServer(
  handler: (req: EdgeRequest, res: EdgeResponse) => void,
  timeouts: ListenerTimeouts,
): { server: net.Server; closeConnections(): void } {
  const h1 = http.createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    },
    handler,
  );
  const h2 = http2.createServer({}, handler);
  // An HTTP/2 connection with no open stream for this long is closed (idle keep-alive).
  h2.setTimeout(Math.max(timeouts.keepAliveTimeoutMs, timeouts.requestTimeoutMs));
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // A connection that never sends a byte is dropped like one that never sends headers.
    socket.setTimeout(timeouts.headersTimeoutMs, () => socket.destroy());
    socket.once("data", (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      if (chunk.subarray(0, H2_PREFACE.length).equals(H2_PREFACE)) {
        h2.emit("connection", prepend(socket, chunk));
      } else {
        // node:http reads through the JS stream here, so the chunk can simply be put back.
        socket.unshift(chunk);
        h1.emit("connection", socket);
        socket.resume();
      }
    });
    socket.on("error", () => socket.destroy());
  });
  server.on("close", () => {
    h1.close();
    h2.close();
  });
  // On shutdown: idle keep-alive connections go now, busy ones when their request is done.
  const closeConnections = () => {
    h1.closeIdleConnections();
    for (const session of sessions) session.close();
    setTimeout(() => {
      for (const socket of sockets) socket.destroy();
    }, 1_000).unref();
  };
  return { server, closeConnections };
}

/**
 * A duplex that yields the already-read first chunk, then the socket's bytes. The http2
 * server reads from the socket's native handle, so an unshifted chunk would be lost.
 */
function prepend(socket: net.Socket, chunk: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(data, encoding, done) {
      socket.write(data, encoding, done);
    },
    final(done) {
      socket.end();
      done();
    },
    destroy(err, done) {
      socket.destroy(err ?? undefined);
      done(err);
    },
  });
  duplex.push(chunk);
  socket.on("data", (data: Buffer) => {
    if (!duplex.push(data)) socket.pause();
  });
  socket.on("end", () => duplex.push(null));
  socket.on("close", () => duplex.destroy());
  socket.on("error", (err) => duplex.destroy(err));
  return duplex;
}
