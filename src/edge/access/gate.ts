import type { DescMethod } from "@bufbuild/protobuf";
import type { Transport } from "@connectrpc/connect";
import type { Redis } from "ioredis";
import { createAccessGate } from "../../shared/access-gate.js";
import { publicServices } from "../../shared/api.js";
import type { ClientOrigin } from "../../shared/client-origin.js";
import type { Logger } from "../../shared/log.js";
import { connectRedis, createRateLimits } from "../../shared/rate-limit.js";
import type { EdgeConfig } from "../config.js";
import { type EdgeRequest, header } from "../http.js";
import { rateLimitHeaders } from "./headers.js";
import { createWhoAmIAuthenticator } from "./whoami.js";

/**
 * The edge's own access check, run before anything is forwarded to core: the same gate core
 * runs (failed-authentication lockout, credential, roles from the protos, per-principal rate
 * limit), with credentials checked through core's WhoAmI and cached (access/whoami.ts). Core
 * checks every forwarded call again.
 */
export interface EdgeAccess {
  /**
   * Checks one call to `method` from `origin`; resolves with the RateLimit-* headers for the
   * answer and throws the refusal (auth.unauthenticated, auth.permission_denied,
   * auth.rate_limited).
   */
  admit(
    method: DescMethod,
    req: EdgeRequest,
    origin: ClientOrigin,
    requestId?: string,
  ): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/** Deadline of the WhoAmI question to core (ms). */
const WHOAMI_DEADLINE_MS = 5_000;

/** Builds the check from config; the counters are in Redis when REDIS_URL is set. */
export function createEdgeAccess(
  config: EdgeConfig,
  deps: { transport: Transport; log: Logger; clock?: () => number },
): EdgeAccess {
  const clock = deps.clock ?? Date.now;
  const redis: Redis | undefined =
    config.redisUrl === "" ? undefined : connectRedis(config.redisUrl, deps.log);
  const limits = createRateLimits({
    readPerMin: config.rateReadPerMin,
    writePerMin: config.rateWritePerMin,
    authFailuresPerMin: config.rateAuthFailuresPerMin,
    authFailuresGlobalPerMin: config.rateAuthFailuresGlobalPerMin,
    windowSec: config.rateWindowSec,
    redis,
    // Apart from core's counters: a call through the edge is counted once by each.
    keyPrefix: `${config.redisKeyPrefix}edge:`,
  });
  const gate = createAccessGate({
    authenticate: createWhoAmIAuthenticator({
      transport: deps.transport,
      ttlMs: config.authCacheTtlSec * 1000,
      maxEntries: config.authCacheSize,
      deadlineMs: WHOAMI_DEADLINE_MS,
      forwardSecret: config.forwardSecret,
      clock,
    }),
    failures: limits,
    limits,
    log: deps.log,
    clock,
  });
  return {
    async admit(method, req, origin, requestId) {
      const admitted = await gate.admit({
        service: method.parent.typeName,
        method,
        header: credentialHeaders(req),
        origin,
        requestId,
      });
      return rateLimitHeaders(admitted.quota);
    },
    async stop() {
      redis?.disconnect();
    },
  };
}

/** Our public RPCs by their path ("/tronpay.v1.PayoutService/GetPayout"). */
const RPC_METHODS: ReadonlyMap<string, DescMethod> = new Map(
  publicServices.flatMap((s) => s.methods.map((m) => [`/${s.typeName}/${m.name}`, m] as const)),
);

/** The public RPC a pass-through path names; undefined when there is none. */
export function rpcMethodOf(path: string): DescMethod | undefined {
  return RPC_METHODS.get(path);
}

/** Only the credential headers: the gate needs nothing else. */
function credentialHeaders(req: EdgeRequest): Headers {
  const out = new Headers();
  for (const name of ["authorization", "x-api-key"]) {
    const value = header(req, name);
    if (value !== undefined) out.set(name, value);
  }
  return out;
}
