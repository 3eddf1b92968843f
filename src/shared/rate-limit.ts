import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { ConnectError } from "@connectrpc/connect";
import { Redis } from "ioredis";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import { RetryInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { AppError, toConnectError } from "./errors.js";
import type { Logger } from "./log.js";

/**
 * Request limits per principal and method (writes tighter than reads) and for failed
 * authentications per bucket (see failureBucket), with a global breaker over them. With Redis the counters are shared by every replica;
 * when Redis is unreachable each replica falls back to its own in-memory limiter (the
 * library's insurance limiter), so limits still hold, only per process. Core and edge both
 * count with these (under different key prefixes, so a call through the edge is not counted
 * twice in one bucket).
 */

export interface RateLimitSettings {
  /** Calls per minute per principal and read method. */
  readPerMin: number;
  /** Calls per minute per principal and write method. */
  writePerMin: number;
  /** Failed authentications per minute per bucket before it is refused. */
  authFailuresPerMin: number;
  /**
   * Batch items per minute per principal (core only): a batch costs one point per item, on
   * top of the write limit its method counts. Unset: no batch budget.
   */
  batchItemsPerMin?: number;
  /**
   * Failed authentications per minute in all buckets together before the breaker opens and
   * only credentials the gate has seen succeed get through; default 50 × authFailuresPerMin.
   */
  authFailuresGlobalPerMin?: number;
  /** Redis client (ioredis, offline queue disabled so an outage fails fast); none: memory. */
  redis?: Redis;
  /** The window the per-minute figures apply to (s); 60 unless a test shortens it. */
  windowSec?: number;
  /** Key prefix in Redis; tests use a unique one. */
  keyPrefix: string;
  /** Called when a call is refused (for metrics). */
  onReject?: (kind: "read" | "write" | "auth" | "batch") => void;
}

/** Where a bucket stands after a call was counted (for RateLimit-* response headers). */
export interface Quota {
  /** Calls allowed per window in this bucket. */
  limit: number;
  /** Calls left in the current window. */
  remaining: number;
  /** Milliseconds until the window ends and the bucket is full again. */
  resetMs: number;
  /** The window's length (s). */
  windowSec: number;
}

/**
 * Failed-authentication counting, the one design core and edge share: a bucket per guesser
 * (failureBucket: the client address, or on the onion the credential presented) and a global
 * breaker over all buckets. Only the first failures of a window reach a bucket once the
 * breaker is open (new credentials are refused before they are checked), which also bounds
 * the number of buckets a flood of distinct garbage can create.
 */
export interface AuthFailures {
  /**
   * Throws auth.rate_limited while `bucket` has too many recent failures, or while the breaker
   * is open and the credential is not `known` (one the gate saw succeed recently).
   */
  checkAuthFailures(bucket: string, known?: boolean): Promise<void>;
  /** Counts one failed authentication in `bucket` (and in the breaker). */
  failedAuth(bucket: string): Promise<void>;
}

export interface RateLimits extends AuthFailures {
  /**
   * Counts one call and returns the bucket's quota; throws auth.rate_limited
   * (ResourceExhausted, with retry-after metadata and a RetryInfo detail) when over.
   */
  consume(principal: string, method: string, write: boolean): Promise<Quota>;
  /**
   * Counts a batch of `items` against the principal's batch budget; throws auth.rate_limited
   * (as consume does) when the window has fewer items left. Unlimited without a budget.
   */
  consumeBatch(principal: string, items: number): Promise<Quota | undefined>;
}

/** What failure counting needs of RateLimitSettings. */
export type AuthFailureSettings = Pick<
  RateLimitSettings,
  | "authFailuresPerMin"
  | "authFailuresGlobalPerMin"
  | "redis"
  | "windowSec"
  | "keyPrefix"
  | "onReject"
>;

/** Builds the failure buckets and the breaker. */
export function createAuthFailures(s: AuthFailureSettings): AuthFailures {
  const perBucket = s.authFailuresPerMin;
  const globalLimit = s.authFailuresGlobalPerMin ?? perBucket * 50;
  const auth = limiter(s, "authfail", perBucket);
  const breaker = limiter(s, "authfail-all", globalLimit);
  const refuse = (res: RateLimiterRes, limit: number, message: string) => {
    s.onReject?.("auth");
    return limited(res.msBeforeNext, limit, message);
  };
  return {
    async checkAuthFailures(bucket, known = false) {
      // After `perBucket` failures the bucket is refused until its window ends.
      const res = await auth.get(bucket);
      if (res !== null && res.consumedPoints >= perBucket) {
        throw refuse(res, perBucket, "too many failed authentications; retry later");
      }
      if (known) return;
      const all = await breaker.get(GLOBAL_BUCKET);
      if (all !== null && all.consumedPoints >= globalLimit) {
        throw refuse(all, globalLimit, "too many failed authentications; retry later");
      }
    },
    async failedAuth(bucket) {
      // Over the limit is expected here (it is what checkAuthFailures looks for).
      const over = (err: unknown) => {
        if (!(err instanceof RateLimiterRes)) throw err;
      };
      await Promise.all([
        auth.consume(bucket).catch(over),
        breaker.consume(GLOBAL_BUCKET).catch(over),
      ]);
    },
  };
}

const GLOBAL_BUCKET = "all";

/** Builds the limiters. */
export function createRateLimits(s: RateLimitSettings): RateLimits {
  const read = limiter(s, "read", s.readPerMin);
  const write = limiter(s, "write", s.writePerMin);
  const batchLimit = s.batchItemsPerMin;
  const batch = batchLimit === undefined ? undefined : limiter(s, "batch", batchLimit);
  const windowSec = s.windowSec ?? 60;
  return {
    ...createAuthFailures(s),
    async consume(principal, method, isWrite) {
      const limit = isWrite ? s.writePerMin : s.readPerMin;
      try {
        const res = await (isWrite ? write : read).consume(`${principal}|${method}`);
        return { limit, remaining: res.remainingPoints, resetMs: res.msBeforeNext, windowSec };
      } catch (err) {
        throw refusal(err, limit, () => s.onReject?.(isWrite ? "write" : "read"));
      }
    },
    async consumeBatch(principal, items) {
      if (!batch || batchLimit === undefined) return undefined;
      try {
        const res = await batch.consume(principal, items);
        return {
          limit: batchLimit,
          remaining: res.remainingPoints,
          resetMs: res.msBeforeNext,
          windowSec,
        };
      } catch (err) {
        throw refusal(err, batchLimit, () => s.onReject?.("batch"));
      }
    },
  };
}

function limiter(
  s: Pick<RateLimitSettings, "windowSec" | "keyPrefix" | "redis">,
  name: string,
  points: number,
): RateLimiterAbstract {
  const windowSec = s.windowSec ?? 60;
  const options = { points, duration: windowSec, keyPrefix: `${s.keyPrefix}rl:${name}` };
  const memory = new RateLimiterMemory(options);
  if (!s.redis) return memory;
  return new RateLimiterRedis({ ...options, storeClient: s.redis, insuranceLimiter: memory });
}

function refusal(err: unknown, limit: number, counted: () => void): unknown {
  // rate-limiter-flexible rejects with a RateLimiterRes when over; anything else is a fault.
  if (!(err instanceof RateLimiterRes)) return err;
  counted();
  return limited(err.msBeforeNext, limit, "too many requests; retry later");
}

/** auth.rate_limited; `limit` (the bucket's size) lets HTTP answers carry RateLimit-Limit. */
function limited(msBeforeNext: number, limit: number, message: string): ConnectError {
  const ms = Math.max(1, Math.ceil(msBeforeNext));
  const error = toConnectError(
    new AppError("auth.rate_limited", message, {
      metadata: { retry_after_ms: String(ms), limit: String(limit) },
      details: [{ desc: RetryInfoSchema, value: { retryDelay: durationFromMs(ms) } }],
    }),
  );
  // gRPC and Connect clients see it as a response header (HTTP Retry-After is in seconds).
  error.metadata.set("retry-after", String(Math.ceil(ms / 1000)));
  return error;
}

/**
 * A Redis client that fails fast while Redis is down (no offline queue, one retry), so the
 * rate limiter's in-memory insurance takes over instead of calls hanging.
 */
export function connectRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  });
  let warned = false;
  redis.on("error", (err) => {
    if (!warned) log.warn({ err }, "redis unreachable; using in-memory limits");
    warned = true;
  });
  redis.on("ready", () => {
    warned = false;
  });
  return redis;
}
