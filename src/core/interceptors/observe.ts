import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../shared/log.js";
import type { CoreMetrics } from "../app/metrics.js";
import { principalKey, requestIdKey } from "../kernel/context.js";

/** The request id of the RPC being served, for outgoing calls made on its behalf. */
const current = new AsyncLocalStorage<string>();

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Outermost interceptor: gives every RPC a request id (the caller's x-request-id when it is
 * sane, else a new one), echoes it in the response headers, and after the call (for a server
 * stream, once the stream ends) logs one line (principal, method, code, duration) from a child
 * logger and counts it in the metrics. An internal error also logs its cause, which the client
 * never sees, under the same request id.
 */
export function createObserveInterceptor(deps: {
  log: Logger;
  metrics?: CoreMetrics;
}): Interceptor {
  return (next) => async (req) => {
    const presented = req.header.get("x-request-id") ?? "";
    const requestId = REQUEST_ID.test(presented) ? presented : randomUUID();
    req.contextValues.set(requestIdKey, requestId);
    const method = `${req.service.typeName}/${req.method.name}`;
    const started = performance.now();
    const log = deps.log.child({ request_id: requestId });
    /** Logs and counts the call; returns the error as a ConnectError carrying the request id. */
    const finish = (err?: unknown): ConnectError | undefined => {
      // errorInterceptor (inside this one) has already made every error a ConnectError.
      const ce = err === undefined ? undefined : ConnectError.from(err);
      const code = ce ? (Code[ce.code] ?? String(ce.code)) : "ok";
      ce?.metadata.set("x-request-id", requestId);
      const seconds = (performance.now() - started) / 1000;
      deps.metrics?.rpcs.inc({ method, code });
      deps.metrics?.rpcSeconds.observe({ method }, seconds);
      const principal = req.contextValues.get(principalKey)?.id;
      if (ce && (ce.code === Code.Internal || ce.code === Code.Unknown))
        log.error({ method, code, cause: causeOf(ce) }, "rpc failed");
      // Health checks come every few seconds from probes: counted, but logged at debug only.
      const level = req.service.typeName === "grpc.health.v1.Health" ? "debug" : "info";
      log[level]({ principal, method, code, duration_ms: Math.round(seconds * 1000) }, "rpc");
      return ce;
    };
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await current.run(requestId, () => next(req));
    } catch (err) {
      throw finish(err);
    }
    res.header.set("x-request-id", requestId);
    if (!res.stream) {
      finish();
      return res;
    }
    return { ...res, message: observed(res.message, finish) };
  };
}

/** Passes a server stream's messages on and calls `finish` once it ends, however it ends. */
async function* observed<T>(
  messages: AsyncIterable<T>,
  finish: (err?: unknown) => ConnectError | undefined,
): AsyncIterable<T> {
  let failed = false;
  try {
    yield* messages;
  } catch (err) {
    failed = true;
    throw finish(err);
  } finally {
    // Also when the client went away and the stream was closed early (return()).
    if (!failed) finish();
  }
}

/** What an internal error was caused by, for the log (never sent to a client). */
function causeOf(ce: ConnectError): { name?: string; message: string; stack?: string } {
  const cause: unknown = ce.cause ?? ce;
  if (cause instanceof Error)
    return { name: cause.name, message: cause.message, stack: cause.stack };
  return { message: String(cause) };
}

/** Client interceptor: forwards the current RPC's request id (e.g. to the signer). */
export const forwardRequestId: Interceptor = (next) => (req) => {
  const id = current.getStore();
  if (id !== undefined) req.header.set("x-request-id", id);
  return next(req);
};
