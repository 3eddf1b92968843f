import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { Duplex } from "node:stream";
import { AppError } from "../shared/errors.js";
import type { Admission } from "./admission.js";
import { type EdgeRequest, type EdgeResponse, sendError } from "./http.js";

/** Timeouts of the listener (ms). */
export interface ListenerTimeouts {
  /**
   * From a connection's start, or the end of its previous answer, until a request's headers
   * are in (HTTP/2: until a session opens its first stream).
   */
  headersTimeoutMs: number;
  /** From a request's headers until its whole body is in. */
  requestTimeoutMs: number;
  /** An HTTP/2 session with no open stream is closed after this. */
  keepAliveTimeoutMs: number;
}

/** Serves one request; `peer` is the TCP peer's address (HTTP/2's request.socket has none). */
export type PeerHandler = (req: EdgeRequest, res: EdgeResponse, peer: string | undefined) => void;

/** What one listener needs besides its handler. */
export interface ListenerOptions extends ListenerTimeouts {
  /** The listener's connection budget (admission.ts). */
  admission: Admission;
  /** The client a connection's peer address counts for; undefined: no per-client share. */
  clientOf(address: string | undefined): string | undefined;
}

/** The HTTP/2 connection preface starts "PRI * HTTP/2.0". */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0");

/**
 * One port for HTTP/1.1 (REST from browsers and curl, Connect, gRPC-Web) and cleartext HTTP/2
 * with prior knowledge (gRPC): the first bytes of a connection pick the server. Node's
 * cleartext http2 server cannot fall back to HTTP/1.1 by itself.
 *
 * The sockets are handed to node's servers with emit("connection") and those servers never
 * listen(), so node's own headersTimeout and requestTimeout (checked by a timer that listen()
 * starts) never fire, and HTTP/2 has none: the timeouts are kept here, the same for both
 * versions. A client sending its headers or body slowly is cut off when they are due, however
 * steadily it trickles bytes.
 */
export function createDualServer(
  handler: PeerHandler,
  options: ListenerOptions,
): { server: net.Server; closeConnections(): void } {
  const headerTimers = new WeakMap<net.Socket, NodeJS.Timeout>();
  /** (Re)starts the time a connection has to deliver its next request's headers. */
  const awaitHeaders = (socket: net.Socket) => {
    clearTimeout(headerTimers.get(socket));
    if (socket.destroyed) return;
    const timer = setTimeout(() => socket.destroy(), options.headersTimeoutMs);
    timer.unref();
    headerTimers.set(socket, timer);
  };
  const h1 = http.createServer(
    {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
    },
    (req, res) => {
      const socket = req.socket;
      clearTimeout(headerTimers.get(socket));
      // The next request on this connection is due within the headers timeout again.
      res.once("finish", () => awaitHeaders(socket));
      awaitBody(req, res, options.requestTimeoutMs, () => socket.destroy());
      handler(req, res, socket.remoteAddress);
    },
  );
  const h2 = http2.createServer({}, (req, res) => {
    // After a complete answer, RST_STREAM(NO_ERROR) tells the client to stop sending.
    awaitBody(req, res, options.requestTimeoutMs, () =>
      res.stream.close(http2.constants.NGHTTP2_NO_ERROR),
    );
    const session = req.stream.session;
    handler(req, res, session ? rawOf.get(session)?.remoteAddress : undefined);
  });
  // The TCP socket under each session: its duplex (prepend) has no address of its own.
  const rawOf = new WeakMap<http2.Http2Session, net.Socket>();
  /** The socket whose session is being made (h2 emits "session" within emit("connection")). */
  let arriving: net.Socket | undefined;
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    const raw = arriving;
    if (raw) rawOf.set(session, raw);
    // The connection's headers timer (from its start) runs until the first stream opens.
    watchSession(session, options.keepAliveTimeoutMs, () => {
      if (raw) clearTimeout(headerTimers.get(raw));
    });
    session.once("close", () => sessions.delete(session));
  });
  const server = net.createServer((socket) => {
    const release = options.admission.connection(options.clientOf(socket.remoteAddress));
    if (!release) {
      // Over the listener's or this client's share of connections.
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      clearTimeout(headerTimers.get(socket));
      release();
    });
    awaitHeaders(socket);
    socket.once("data", (chunk: Buffer) => {
      socket.pause();
      if (chunk.subarray(0, H2_PREFACE.length).equals(H2_PREFACE)) {
        arriving = socket;
        try {
          h2.emit("connection", prepend(socket, chunk));
        } finally {
          arriving = undefined;
        }
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
 * An HTTP/2 session is closed once it has had no open stream for `keepAliveMs`; `opened` is
 * told of its first stream (until then the connection's headers timeout runs).
 */
function watchSession(
  session: http2.ServerHttp2Session,
  keepAliveMs: number,
  opened: () => void,
): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    if (timer === undefined && open === 0) opened();
    clearTimeout(timer);
    open++;
    stream.once("close", () => {
      if (--open > 0 || session.closed || session.destroyed) return;
      timer = setTimeout(() => session.close(), keepAliveMs);
      timer.unref();
    });
  });
  session.once("close", () => clearTimeout(timer));
}

/**
 * Gives a request with a body `timeoutMs` to deliver all of it. When it does not, and its answer
 * is not done yet, the edge answers 408 request.timeout (if it can still answer) and then
 * `cut`s the request off (HTTP/1.1: the connection; HTTP/2: the stream). Listening for "end"
 * does not start reading the body, so an unread body is only waited for while its answer is.
 */
function awaitBody(req: EdgeRequest, res: EdgeResponse, timeoutMs: number, cut: () => void) {
  if (!hasBody(req)) return;
  let ended = false;
  const timer = setTimeout(() => {
    if (ended || res.writableEnded) return;
    if (res.headersSent) {
      cut();
      return;
    }
    // Cut once the 408 is out. HTTP/1.1: when it is written. HTTP/2: a little later, since
    // nghttp2 sends RST_STREAM ahead of queued DATA and the answer would be lost.
    if ("stream" in res) setTimeout(cut, 200).unref();
    else res.once("finish", cut);
    sendError(
      res,
      new AppError("request.timeout", `the request body did not arrive within ${timeoutMs} ms`),
      // HTTP/1.1: the connection goes too (HTTP/2 forbids the header; the stream goes).
      "stream" in res ? {} : { connection: "close" },
    );
  }, timeoutMs);
  timer.unref();
  req.once("end", () => {
    ended = true;
    clearTimeout(timer);
  });
  res.once("close", () => clearTimeout(timer));
}

function hasBody(req: EdgeRequest): boolean {
  if ("stream" in req) return !req.stream.endAfterHeaders;
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
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
