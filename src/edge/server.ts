import type http2 from "node:http2";
import type { AddressInfo, Server } from "node:net";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { admitsWithoutCredential } from "../shared/access-gate.js";
import { type ClientOrigin, originHeaders, peerOrigin } from "../shared/client-origin.js";
import { AppError } from "../shared/errors.js";
import type { Logger } from "../shared/log.js";
import { type EdgeAccess, rpcMethodOf } from "./access/gate.js";
import { Admission, type Refusal, type Ticket } from "./admission.js";
import type { EdgeConfig } from "./config.js";
import { applyCors } from "./cors.js";
import { type EdgeRequest, type EdgeResponse, sendError } from "./http.js";
import { createDualServer, type PeerHandler } from "./listener.js";
import { CoreProxy, isRpcRequest } from "./proxy.js";
import { requestIdOf, serveRest } from "./rest.js";
import { sendRpcError } from "./rpc-errors.js";
import { type StaticPages, serveStatic } from "./static.js";
import { toHttpError } from "./transcode/errors.js";
import { buildRouteTrie, type RestRoute } from "./transcode/rules.js";
import type { RouteTrie } from "./transcode/trie.js";

/** What the edge server needs; all passed in (tests build their own). */
export interface EdgeServerDeps {
  config: EdgeConfig;
  /** Connect transport to core (HTTP/2, one for the process). */
  transport: Transport;
  routes: readonly RestRoute[];
  pages: StaticPages;
  /** The edge's own auth and rate-limit check, run before anything reaches core. */
  access: EdgeAccess;
  log: Logger;
  /** Options for the pass-through's HTTP/2 session to core. */
  coreSessionOptions?: http2.ClientSessionOptions | undefined;
}

/** A running edge. */
export interface EdgeServer {
  /** http://host:port, or unix:/path when listening on a socket. */
  url: string;
  /** The onion listener (http://127.0.0.1:port) when open; see EdgeConfig.onionListenPort. */
  onionUrl: string | undefined;
  close(): Promise<void>;
}

/** Every caller on the onion listener: Tor hides the address. */
const ONION: ClientOrigin = { ip: undefined, viaOnion: true };

/**
 * Serves REST (transcoded to Connect calls on core) and passes Connect, gRPC and gRPC-Web
 * through. Every API call is checked here first (deps.access: credentials, roles, rate limit),
 * so refused calls never reach core; core checks every forwarded call again. Two listeners
 * serve the same: the plain one (callers are their TCP peer) and, when configured, the onion
 * listener (callers are onion clients); the client's origin goes to core MAC'd.
 */
export async function startEdgeServer(deps: EdgeServerDeps): Promise<EdgeServer> {
  const trie = buildRouteTrie(deps.routes);
  const proxy = new CoreProxy(
    deps.config.coreUrl,
    deps.config.maxBodyBytes,
    deps.coreSessionOptions,
  );
  const handlerFor =
    (admission: Admission, onion: boolean): PeerHandler =>
    (req, res, peer) => {
      // Every caller on the onion listener is an onion client: Tor hides the address.
      const origin = onion ? ONION : peerOrigin(peer);
      const client = onion ? undefined : origin.ip;
      const ticket = admission.request(client);
      if (typeof ticket === "string") {
        sendError(res, overloaded(ticket), { "retry-after": "1" });
        return;
      }
      const started = performance.now();
      res.once("close", () => {
        ticket.release();
        deps.log.debug(
          {
            method: req.method,
            path: req.url?.split("?")[0],
            status: res.statusCode,
            ms: Math.round(performance.now() - started),
          },
          "request",
        );
      });
      const requestId = requestIdOf(req);
      const call = { req, res, origin, requestId, ticket };
      dispatch(deps, trie, proxy, call).catch((err: unknown) => {
        const answer = toHttpError(err);
        // The client sees a generic message; the cause is here, findable by the request id.
        if (answer.status >= 500) {
          const line = { requestId, status: answer.status, err: causeText(err), url: req.url };
          if (answer.status === 500) deps.log.error(line, "request failed");
          else deps.log.warn(line, "request failed");
        }
        sendError(res, answer);
      });
    };
  const listenerOf = (admission: Admission, onion: boolean) => ({
    ...deps.config,
    admission,
    clientOf: (address: string | undefined) => (onion ? undefined : peerOrigin(address).ip),
  });
  const plainAdmission = new Admission(deps.config);
  const plain = createDualServer(
    handlerFor(plainAdmission, false),
    listenerOf(plainAdmission, false),
  );
  const listeners = [plain];
  await listen(plain.server, (s, done) => {
    if (deps.config.socket !== "") s.listen(deps.config.socket, done);
    else s.listen(deps.config.port, deps.config.host, done);
  });
  let onionUrl: string | undefined;
  if (deps.config.torMode === "required" || deps.config.onionListenPort > 0) {
    // Its own budgets: onion clients all arrive from the local Tor, so they share these, and
    // however many there are, the plain listener's stay free.
    const onionAdmission = new Admission(deps.config);
    const onion = createDualServer(
      handlerFor(onionAdmission, true),
      listenerOf(onionAdmission, true),
    );
    listeners.push(onion);
    await listen(onion.server, (s, done) =>
      s.listen(deps.config.onionListenPort, "127.0.0.1", done),
    ).catch((err: unknown) => {
      plain.server.close();
      throw err;
    });
    onionUrl = urlOf(onion.server.address());
  }
  return {
    url: urlOf(plain.server.address()),
    onionUrl,
    close: () =>
      new Promise<void>((resolve) => {
        proxy.close();
        let open = listeners.length;
        for (const l of listeners) {
          l.server.close(() => {
            if (--open === 0) resolve();
          });
          l.closeConnections();
        }
        setTimeout(resolve, 2000).unref();
      }),
  };
}

/** Starts `server` listening; rejects on a listen error (a port in use). */
function listen(server: Server, start: (s: Server, done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    start(server, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** One request on its way through the edge. */
interface Call {
  req: EdgeRequest;
  res: EdgeResponse;
  origin: ClientOrigin;
  requestId: string;
  /** Its hold on the listener's budgets. */
  ticket: Ticket;
}

async function dispatch(
  deps: EdgeServerDeps,
  trie: RouteTrie<RestRoute>,
  proxy: CoreProxy,
  call: Call,
): Promise<void> {
  const { req, res, origin, requestId } = call;
  if (applyCors(deps.config.corsOrigins, req, res)) return;
  const url = new URL(req.url ?? "/", "http://edge");
  if (await serveStatic(deps.pages, req, res, url.pathname)) return;
  if (isRpcRequest(req, url.pathname)) {
    return passThrough(deps, proxy, call, url.pathname);
  }
  const match = trie.match(req.method ?? "GET", url.pathname);
  if (!match) {
    throw new AppError("request.invalid", "the path is not valid percent-encoding", {
      metadata: { field: "path" },
    });
  }
  if (match.kind === "notFound") {
    throw new AppError("request.not_found", "no route for this path", {
      metadata: { path: url.pathname },
    });
  }
  if (match.kind === "methodNotAllowed") {
    res.setHeader("allow", match.allow.join(", "));
    throw new AppError("request.method_not_allowed", `this path allows ${match.allow.join(", ")}`, {
      metadata: { allow: match.allow.join(",") },
    });
  }
  // On refusals too, so a client can quote the id of a request the edge answered itself.
  res.setHeader("x-request-id", requestId);
  setHeaders(res, await deps.access.admit(match.route.method, req, origin, requestId));
  holdUnauthenticated(call, match.route.method);
  await serveRest(
    restDepsOf(deps),
    req,
    res,
    match.route,
    match.segments,
    url.searchParams,
    requestId,
    originHeaders(deps.config.forwardSecret, origin, {
      procedure: `/${match.route.method.parent.typeName}/${match.route.method.name}`,
      requestId,
    }),
  );
}

/** An RPC for core: checked like REST, refused in the client's protocol, else proxied. */
async function passThrough(
  deps: EdgeServerDeps,
  proxy: CoreProxy,
  call: Call,
  path: string,
): Promise<void> {
  const { req, res, origin, requestId } = call;
  res.setHeader("x-request-id", requestId);
  try {
    const method = rpcMethodOf(path);
    if (!method) throw new ConnectError("no such RPC", Code.Unimplemented);
    setHeaders(res, await deps.access.admit(method, req, origin, requestId));
    holdUnauthenticated(call, method);
  } catch (err) {
    sendRpcError(req, res, err);
    return;
  }
  // Core sees the same request id the origin statement is MAC'd with.
  const statement = originHeaders(deps.config.forwardSecret, origin, {
    procedure: path,
    requestId,
  });
  await proxy.forward(req, res, [["x-request-id", requestId], ...statement]);
}

/**
 * A call admitted without a credential (RefreshToken) goes on in the smallest budget: it
 * reads its body and waits for core unauthenticated. Throws edge.overloaded when it is spent.
 */
function holdUnauthenticated(call: Call, method: DescMethod): void {
  if (!admitsWithoutCredential(method)) return;
  const refused = call.ticket.unauthenticated();
  if (refused) throw overloaded(refused, "unauthenticated ");
}

function overloaded(refusal: Refusal, kind = ""): AppError {
  const whose = refusal === "client" ? "from this client" : "in flight";
  return new AppError("edge.overloaded", `too many ${kind}requests ${whose}; retry shortly`, {
    metadata: { limit: `${kind}${refusal}`.replace(" ", "_") },
  });
}

/** Headers for the answer (RateLimit-*), kept when it is written later. */
function setHeaders(res: EdgeResponse, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}

function restDepsOf(deps: EdgeServerDeps) {
  return {
    transport: deps.transport,
    maxBodyBytes: deps.config.maxBodyBytes,
    defaultDeadlineMs: deps.config.defaultDeadlineMs,
    streamDeadlineMs: deps.config.streamDeadlineMs,
  };
}

function urlOf(address: AddressInfo | string | null): string {
  if (typeof address === "string") return `unix:${address}`;
  if (!address) return "";
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** The error's message and its causes' (an AppError wraps what failed in `cause`). */
function causeText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined && parts.length < 5; ) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ");
}
