import type { Redis } from "ioredis";
import type { DatabasePool } from "slonik";
import type { Logger } from "../../shared/log.js";
import { connectRedis, createRateLimits, type RateLimits } from "../../shared/rate-limit.js";
import type { CoreConfig } from "../app/config.js";
import { createJwtVerifier } from "../auth/jwt-verify.js";
import {
  MemoryRevocationList,
  RedisRevocationList,
  type RevocationList,
} from "../auth/revocation.js";
import { loadOrCreateSigningKey } from "../auth/signing-key.js";
import { syncRevocations, type TokenSettings } from "../auth/tokens.js";

/** Everything access control needs at run time, built from config. */
export interface Access {
  redis?: Redis;
  limits: RateLimits;
  revocations: RevocationList;
  tokens: TokenSettings;
  verify: ReturnType<typeof createJwtVerifier>;
  stop(): Promise<void>;
}

// How often revocations recorded in the database are copied into this replica's list.
const REVOCATION_SYNC_MS = 5_000;

/** Builds the Redis client (if configured), limits, revocation list and JWT keys. */
export async function setUpAccess(
  config: CoreConfig,
  deps: { pool: DatabasePool; log: Logger; clock: () => number; onReject?: (kind: string) => void },
): Promise<Access> {
  const redis = config.redisUrl === "" ? undefined : connectRedis(config.redisUrl, deps.log);
  const limits = createRateLimits({
    readPerMin: config.rateReadPerMin,
    writePerMin: config.rateWritePerMin,
    authFailuresPerMin: config.rateAuthFailuresPerMin,
    batchItemsPerMin: config.rateBatchItemsPerMin,
    authFailuresGlobalPerMin: config.rateAuthFailuresGlobalPerMin,
    redis,
    keyPrefix: config.redisKeyPrefix,
    onReject: deps.onReject,
  });
  const revocations = redis
    ? new RedisRevocationList(redis, config.redisKeyPrefix, deps.clock, () => {})
    : new MemoryRevocationList(deps.clock);
  const key = await loadOrCreateSigningKey(config.dataDir);
  const tokens: TokenSettings = {
    key,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    defaultTtlMs: Math.min(config.jwtTtlSec, config.jwtMaxTtlSec) * 1000,
    maxTtlMs: config.jwtMaxTtlSec * 1000,
    refreshTtlMs: config.refreshTtlSec * 1000,
  };
  const verify = createJwtVerifier({
    own: { key, issuer: config.jwtIssuer },
    audience: config.jwtAudience,
    leewaySec: config.jwtLeewaySec,
    external:
      config.jwtExternalJwks === ""
        ? undefined
        : { issuer: config.jwtExternalIssuer, jwks: config.jwtExternalJwks },
    clock: deps.clock,
  });
  // Start from every live revocation, then follow new ones.
  let since = await syncRevocations(deps.pool, revocations, { sinceMs: 0, now: deps.clock() });
  const timer = setInterval(() => {
    syncRevocations(deps.pool, revocations, { sinceMs: since, now: deps.clock() })
      .then((next) => {
        since = next;
      })
      .catch((err) => deps.log.warn({ err: String(err) }, "revocation sync failed"));
  }, REVOCATION_SYNC_MS);
  timer.unref();
  const stop = async () => {
    clearInterval(timer);
    redis?.disconnect();
  };
  return { redis, limits, revocations, tokens, verify, stop };
}
