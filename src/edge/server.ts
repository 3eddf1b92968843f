import type http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { Transport } from "@connectrpc/connect";
import { AppError } from "../shared/errors.js";
import type { Logger } from "../shared/log.js";
import type { EdgeConfig } from "./config.js";
import { applyCors } from "./cors.js";
import { type EdgeRequest, type EdgeResponse, sendError } from "./http.js";
import { createDualServer } from "./listener.js";
import { CoreProxy, isRpcRequest } from "./proxy.js";
import { serveRest } from "./rest.js";
import { type StaticPages, serveStatic } from "./static.js";
import { buildRouteTrie, type RestRoute } from "./transcode/rules.js";
import type { RouteTrie } from "./transcode/trie.js";

/** What the edge server needs; all passed in (tests build their own). */
export interface EdgeServerDeps {
  config: EdgeConfig;
  /** Connect transport to core (HTTP/2, one for the process). */
  transport: Transport;
  routes: readonly RestRoute[];
  pages: StaticPages;
  log: Logger;
  /** Options for the pass-through's HTTP/2 session to core. */
  coreSessionOptions?: http2.ClientSessionOptions | undefined;
}

/** A running edge. */
export interface EdgeServer {
  /** http://host:port, or unix:/path when listening on a socket. */
  url: string;
  close(): Promise<void>;
}

/**
 * Auth is left to core on purpose: core's interceptor checks the key against the database,
 * the roles the proto declares and its lockout, and every request the edge forwards goes
 * through it. A second check here would double the database reads per request and could
 * disagree with core's; the edge adds nothing a client could bypass core with.
 */
export async function startEdgeServer(deps: EdgeServerDeps): Promise<EdgeServer> {
  const trie = buildRouteTrie(deps.routes);
  const proxy = new CoreProxy(
    deps.config.coreUrl,
    deps.config.maxBodyBytes,
    deps.coreSessionOptions,
  );
  let inFlight = 0;
  const handler = (req: EdgeRequest, res: EdgeResponse) => {
    if (inFlight >= deps.config.maxConcurrent) {
      sendError(
        res,
        new AppError("edge.overloaded", "too many requests in flight; retry shortly"),
        {
          "retry-after": "1",
        },
      );
      return;
    }
    inFlight++;
    const started = performance.now();
    res.once("close", () => {
      inFlight--;
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
    dispatch(deps, trie, proxy, req, res).catch((err: unknown) => {
      if (!(err instanceof AppError))
        deps.log.warn({ err: errText(err), url: req.url }, "request failed");
      sendError(res, err);
    });
  };
  const { server, closeConnections } = createDualServer(handler, deps.config);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if (deps.config.socket !== "") server.listen(deps.config.socket, resolve);
    else server.listen(deps.config.port, deps.config.host, resolve);
  });
  return {
    url: urlOf(server.address()),
    close: () =>
      new Promise<void>((resolve) => {
        proxy.close();
        server.close(() => resolve());
        closeConnections();
        setTimeout(resolve, 2000).unref();
      }),
  };
}

async function dispatch(
  deps: EdgeServerDeps,
  trie: RouteTrie<RestRoute>,
  proxy: CoreProxy,
  req: EdgeRequest,
  res: EdgeResponse,
): Promise<void> {
  if (applyCors(deps.config.corsOrigins, req, res)) return;
  const url = new URL(req.url ?? "/", "http://edge");
  if (await serveStatic(deps.pages, req, res, url.pathname)) return;
  if (isRpcRequest(req, url.pathname)) return proxy.forward(req, res);
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
  await serveRest(restDepsOf(deps), req, res, match.route, match.segments, url.searchParams);
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

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
