import type { ConnectError } from "@connectrpc/connect";
import type { Redis } from "ioredis";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import { AppError, toConnectError } from "../../shared/errors.js";

/**
 * Request limits per principal and method (writes tighter than reads) and for failed
 * authentications per client address. With Redis the counters are shared by every replica;
 * when Redis is unreachable each replica falls back to its own in-memory limiter (the
 * library's insurance limiter), so limits still hold, only per process.
 */

export interface RateLimitSettings {
  /** Calls per minute per principal and read method. */
  readPerMin: number;
  /** Calls per minute per principal and write method. */
  writePerMin: number;
  /** Failed authentications per minute per client address before it is refused. */
  authFailuresPerMin: number;
  /** Redis client (ioredis, offline queue disabled so an outage fails fast); none: memory. */
  redis?: Redis;
  /** The window the per-minute figures apply to (s); 60 unless a test shortens it. */
  windowSec?: number;
  /** Key prefix in Redis; tests use a unique one. */
  keyPrefix: string;
  /** Called when a call is refused (for metrics). */
  onReject?: (kind: "read" | "write" | "auth") => void;
}

export interface RateLimits {
  /** Counts one call; throws auth.rate_limited (ResourceExhausted, retry-after) when over. */
  consume(principal: string, method: string, write: boolean): Promise<void>;
  /** Throws auth.rate_limited while `address` has too many recent failed authentications. */
  checkAuthFailures(address: string): Promise<void>;
  /** Counts one failed authentication from `address`. */
  failedAuth(address: string): Promise<void>;
}

/** Builds the limiters. */
export function createRateLimits(s: RateLimitSettings): RateLimits {
  const read = limiter(s, "read", s.readPerMin);
  const write = limiter(s, "write", s.writePerMin);
  const auth = limiter(s, "authfail", s.authFailuresPerMin);
  return {
    async consume(principal, method, isWrite) {
      try {
        await (isWrite ? write : read).consume(`${principal}|${method}`);
      } catch (err) {
        throw refusal(err, () => s.onReject?.(isWrite ? "write" : "read"));
      }
    },
    async checkAuthFailures(address) {
      const res = await auth.get(address);
      if (res !== null && res.consumedPoints > s.authFailuresPerMin) {
        s.onReject?.("auth");
        throw limited(res.msBeforeNext, "too many failed authentications; retry later");
      }
    },
    async failedAuth(address) {
      // Over the limit is expected here (it is what checkAuthFailures looks for).
      await auth.consume(address).catch((err) => {
        if (!(err instanceof RateLimiterRes)) throw err;
      });
    },
  };
}

function limiter(s: RateLimitSettings, name: string, points: number): RateLimiterAbstract {
  const windowSec = s.windowSec ?? 60;
  const options = { points, duration: windowSec, keyPrefix: `${s.keyPrefix}rl:${name}` };
  const memory = new RateLimiterMemory(options);
  if (!s.redis) return memory;
  return new RateLimiterRedis({ ...options, storeClient: s.redis, insuranceLimiter: memory });
}

function refusal(err: unknown, counted: () => void): unknown {
  // rate-limiter-flexible rejects with a RateLimiterRes when over; anything else is a fault.
  if (!(err instanceof RateLimiterRes)) return err;
  counted();
  return limited(err.msBeforeNext, "too many requests; retry later");
}

function limited(msBeforeNext: number, message: string): ConnectError {
  const ms = Math.max(1, Math.ceil(msBeforeNext));
  const error = toConnectError(
    new AppError("auth.rate_limited", message, { metadata: { retry_after_ms: String(ms) } }),
  );
  // gRPC and Connect clients see it as a response header (HTTP Retry-After is in seconds).
  error.metadata.set("retry-after", String(Math.ceil(ms / 1000)));
  return error;
}
