import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../shared/log.js";
import { principalKey, requestIdKey } from "../context.js";
import type { CoreMetrics } from "../metrics.js";

/** The request id of the RPC being served, for outgoing calls made on its behalf. */
const current = new AsyncLocalStorage<string>();

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Outermost interceptor: gives every RPC a request id (the caller's x-request-id when it is
 * sane, else a new one), echoes it in the response headers, and after the call logs one line
 * (principal, method, code, duration) from a child logger and counts it in the metrics.
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
    let code = "ok";
    try {
      const res = await current.run(requestId, () => next(req));
      res.header.set("x-request-id", requestId);
      return res;
    } catch (err) {
      // errorInterceptor (inside this one) has already made every error a ConnectError.
      const ce = ConnectError.from(err);
      code = Code[ce.code] ?? String(ce.code);
      ce.metadata.set("x-request-id", requestId);
      throw ce;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      deps.metrics?.rpcs.inc({ method, code });
      deps.metrics?.rpcSeconds.observe({ method }, seconds);
      const principal = req.contextValues.get(principalKey)?.id;
      // Health checks come every few seconds from probes: counted, but logged at debug only.
      const level = req.service.typeName === "grpc.health.v1.Health" ? "debug" : "info";
      deps.log
        .child({ request_id: requestId })
        [level]({ principal, method, code, duration_ms: Math.round(seconds * 1000) }, "rpc");
    }
  };
}

/** Client interceptor: forwards the current RPC's request id (e.g. to the signer). */
export const forwardRequestId: Interceptor = (next) => (req) => {
  const id = current.getStore();
  if (id !== undefined) req.header.set("x-request-id", id);
  return next(req);
};
