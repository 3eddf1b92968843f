import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AppError, ERROR_DOMAIN } from "../../shared/errors.js";
import type { Quota } from "../../shared/rate-limit.js";

/**
 * Rate-limit response headers in the form of draft-ietf-httpapi-ratelimit-headers-06:
 * RateLimit-Limit (calls per window in the caller's bucket for this method), RateLimit-Remaining
 * (calls left) and RateLimit-Reset (delta-seconds until the window ends), as separate integer
 * fields; and Retry-After (RFC 9110, delta-seconds) on a refusal.
 */

/** The headers for a call that was counted. */
export function rateLimitHeaders(quota: Quota | undefined): Record<string, string> {
  if (!quota) return {};
  return {
    "ratelimit-limit": String(quota.limit),
    "ratelimit-remaining": String(Math.max(0, quota.remaining)),
    "ratelimit-reset": String(Math.ceil(Math.max(0, quota.resetMs) / 1000)),
  };
}

/**
 * Retry-After (and RateLimit-* when the limit is known) for a ResourceExhausted refusal, the
 * edge's own or core's: from the retry-after header core sets, else the ErrorInfo's
 * retry_after_ms. Empty for any other error.
 */
export function refusalHeaders(err: unknown): Record<string, string> {
  const refusal = describeRefusal(err);
  if (!refusal) return {};
  const seconds = String(refusal.seconds);
  const headers: Record<string, string> = { "retry-after": seconds };
  if (refusal.limit !== undefined) {
    headers["ratelimit-limit"] = refusal.limit;
    headers["ratelimit-remaining"] = "0";
    headers["ratelimit-reset"] = seconds;
  }
  return headers;
}

function describeRefusal(err: unknown): { seconds: number; limit?: string } | undefined {
  let metadata: Record<string, string> | undefined;
  let header: string | null = null;
  if (err instanceof AppError) {
    if (err.code !== Code.ResourceExhausted) return undefined;
    metadata = err.metadata;
  } else if (err instanceof ConnectError) {
    if (err.code !== Code.ResourceExhausted) return undefined;
    metadata = err.findDetails(ErrorInfoSchema).find((d) => d.domain === ERROR_DOMAIN)?.metadata;
    header = err.metadata.get("retry-after");
  } else {
    return undefined;
  }
  const fromHeader = header !== null && /^\d{1,9}$/.test(header) ? Number(header) : undefined;
  const ms = Number(metadata?.retry_after_ms);
  const fromMs = Number.isFinite(ms) && ms > 0 ? Math.ceil(ms / 1000) : undefined;
  const seconds = fromHeader ?? fromMs;
  if (seconds === undefined) return undefined;
  const limit = metadata?.limit;
  return {
    seconds: Math.max(1, seconds),
    limit: limit !== undefined && /^\d{1,9}$/.test(limit) ? limit : undefined,
  };
}
