import {
  type ContextValues,
  createContextKey,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import {
  type Authenticated,
  type Credential,
  createAccessGate,
  type FailureCounter,
} from "../../shared/access-gate.js";
import { looksLikeJwt, unauthenticated } from "../../shared/credentials.js";
import { AppError } from "../../shared/errors.js";
import type { Logger } from "../../shared/log.js";
import type { RateLimits } from "../../shared/rate-limit.js";
import { type JwtVerifier, TokenRejected } from "../auth/jwt-verify.js";
import { verifyApiKey } from "../auth/keys.js";
import { FailureLockout, type LockoutOptions } from "../auth/lockout.js";
import type { RevocationList } from "../auth/revocation.js";
import { principalKey } from "../context.js";

export type { Credential } from "../../shared/access-gate.js";

/** The credential of the call (undefined for open and self-authenticated methods). */
export const credentialKey = createContextKey<Credential | undefined>(undefined, {
  description: "credential",
});

/** The address of the TCP peer; undefined when the server does not provide it. */
export const clientIpKey = createContextKey<string | undefined>(undefined, {
  description: "client ip",
});

/**
 * Context values for connectNodeAdapter's `contextValues` option: records the peer address so
 * that API keys with allowed_ips can be checked and failures counted per address.
 */
export function clientContextValues(req: { socket: { remoteAddress?: string } }): ContextValues {
  const values = createContextValues();
  values.set(clientIpKey, req.socket.remoteAddress);
  return values;
}

export interface AuthDeps {
  pool: DatabasePool;
  log: Logger;
  clock: () => number;
  /** Failed-authentication lockout; default 20 failures per minute per address. */
  lockout?: LockoutOptions;
  /** JWT verification; without it Bearer JWTs are refused. */
  jwt?: { verify: JwtVerifier; revocations: RevocationList };
  /** Per-principal request limits; when set, failed authentications are counted there too. */
  limits?: RateLimits;
}

/**
 * Authenticates every call (API key in `authorization: Bearer tp_…` or `x-api-key`, or a JWT),
 * authorizes it against the roles its proto declares (rolesOf), counts it against the
 * principal's rate limit, and puts the principal in the call's context. The checks are the
 * shared access gate the edge runs too; here credentials are verified against the database and
 * the JWT keys. Throws AppErrors; errorInterceptor, outermost, turns them into responses.
 */
export function createAuthInterceptor(deps: AuthDeps): Interceptor {
  const lockout = new FailureLockout(deps.lockout ?? { maxFailures: 20, windowMs: 60_000 });
  const gate = createAccessGate({
    authenticate: (presented, from) => authenticate(deps, presented, from.ip),
    failures: deps.limits ?? memoryFailures(lockout, deps.clock),
    limits: deps.limits,
    log: deps.log,
  });
  return (next) => async (req) => {
    // Without a peer address all callers share one failure bucket: still bounded, but one noisy
    // client can then lock out the rest. serveCore should pass clientContextValues.
    const admitted = await gate.admit({
      service: req.service.typeName,
      method: req.method,
      header: req.header,
      ip: req.contextValues.get(clientIpKey),
    });
    if (admitted.principal) req.contextValues.set(principalKey, admitted.principal);
    if (admitted.credential) req.contextValues.set(credentialKey, admitted.credential);
    return next(req);
  };
}

/** Verifies the presented credential: an API key, or a JWT that is not revoked. */
async function authenticate(
  deps: AuthDeps,
  presented: string,
  ip: string | undefined,
): Promise<Authenticated> {
  if (!presented.startsWith("tp_") && looksLikeJwt(presented)) {
    if (!deps.jwt) throw unauthenticated("JWTs are not accepted by this server");
    const token = await deps.jwt.verify(presented).catch((err: unknown) => {
      throw unauthenticated(err instanceof TokenRejected ? err.message : "token check failed");
    });
    if (await deps.jwt.revocations.isRevoked(token.jti)) {
      throw unauthenticated(`token ${token.jti} is revoked`);
    }
    return {
      principal: token.principal,
      credential: {
        kind: "jwt",
        apiKeyId: token.apiKeyId,
        jti: token.jti,
        expiresAt: token.expiresAt,
      },
    };
  }
  const principal = await verifyApiKey(deps.pool, presented, { ip, now: deps.clock() });
  return { principal, credential: { kind: "api_key", apiKeyId: principal.id.slice(4) } };
}

/** The process-local failure lockout behind the RateLimits failure interface. */
function memoryFailures(lockout: FailureLockout, clock: () => number): FailureCounter {
  return {
    async checkAuthFailures(bucket) {
      const wait = lockout.retryAfter(bucket, clock());
      if (wait > 0) {
        throw new AppError("auth.rate_limited", "too many failed authentications; retry later", {
          metadata: { retry_after_ms: String(wait) },
        });
      }
    },
    async failedAuth(bucket) {
      lockout.fail(bucket, clock());
    },
  };
}
