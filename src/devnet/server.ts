import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../shared/log.js";
import type { Faults } from "./faults.js";
import {
  type DevnetRequest,
  flag,
  HANG_UP,
  type Handler,
  parseRequest,
  RequestError,
  sendJson,
  toJson,
} from "./http.js";
import { toVisible } from "./render.js";

/** Exact paths (lower-case) and path prefixes to handlers. */
export interface RouteTable {
  readonly exact: ReadonlyMap<string, Handler>;
  readonly prefixes: readonly (readonly [prefix: string, handler: Handler])[];
}

/** One remote address seen by the server. */
export interface ConnectionEntry {
  readonly address: string;
  readonly connections: number;
  readonly requests: number;
}

/**
 * Remote addresses that opened connections or sent requests (a kept-alive connection opened
 * before a reset shows up through its requests). A Tor test reads it to see who connected.
 */
export class ConnectionLog {
  private readonly entries = new Map<string, { connections: number; requests: number }>();
  private readonly paths = new Map<string, number>();

  record(address: string | undefined, kind: "connections" | "requests"): void {
    const key = address ?? "unknown";
    const e = this.entries.get(key) ?? { connections: 0, requests: 0 };
    e[kind]++;
    this.entries.set(key, e);
  }

  /** Counts one request to `path` (benches read requests per payout from these). */
  recordPath(path: string): void {
    this.paths.set(path, (this.paths.get(path) ?? 0) + 1);
  }

  /** Requests so far by path. */
  pathCounts(): Record<string, number> {
    return Object.fromEntries(this.paths);
  }

  snapshot(): ConnectionEntry[] {
    return [...this.entries].map(([address, e]) => ({ address, ...e }));
  }

  reset(): void {
    this.entries.clear();
    this.paths.clear();
  }
}

/** The HTTP server: routing, java-tron error conventions, latency and 5xx faults. */
export function createDevnetServer(
  routes: RouteTable,
  faults: Faults,
  connections: ConnectionLog,
  log: Logger,
): Server {
  const server = createServer((req, res) => {
    connections.record(req.socket.remoteAddress, "requests");
    connections.recordPath((req.url ?? "").split("?")[0] ?? "");
    handle(req, res, routes, faults, log).catch((err: unknown) => {
      log.error({ err }, "unhandled devnet request error");
      if (!res.headersSent) sendJson(res, 500, toJson({ Error: "internal error" }, false));
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on("connection", (socket) => connections.record(socket.remoteAddress, "connections"));
  return server;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: RouteTable,
  faults: Faults,
  log: Logger,
): Promise<void> {
  let request: DevnetRequest;
  try {
    request = await parseRequest(req);
  } catch (err) {
    if (!(err instanceof RequestError)) throw err;
    sendJson(res, 200, toJson({ Error: err.message }, false));
    return;
  }
  const isAdmin = request.path.startsWith("/admin/");
  if (!isAdmin) {
    const { latencyMs, errorRate } = faults.settings;
    if (latencyMs > 0) await sleep(latencyMs);
    if (faults.roll(errorRate)) {
      sendJson(res, 503, toJson({ Error: "service unavailable (devnet fault)" }, false));
      return;
    }
  }
  const handler = findHandler(routes, request.path);
  if (!handler) {
    sendJson(res, 404, toJson({ Error: `no route ${request.path}` }, false));
    return;
  }
  let result: unknown;
  try {
    result = await handler(request);
  } catch (err) {
    if (!(err instanceof RequestError)) {
      log.warn({ err, path: request.path }, "devnet handler failed");
    }
    const message = err instanceof Error ? err.message : "internal error";
    sendJson(res, 200, toJson({ Error: message }, false));
    return;
  }
  if (result === HANG_UP) {
    req.socket.destroy();
    return;
  }
  const body = flag(request.params.visible) ? toVisible(result ?? {}) : (result ?? {});
  sendJson(res, 200, toJson(body, flag(request.params.int64_as_string)));
}

function findHandler(routes: RouteTable, path: string): Handler | undefined {
  const exact = routes.exact.get(path);
  if (exact) return exact;
  for (const [prefix, handler] of routes.prefixes) {
    if (path.startsWith(prefix)) return handler;
  }
  return undefined;
}

/** Listens and resolves with the bound address. */
export async function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}
