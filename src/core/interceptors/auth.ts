import type { DescMethod } from "@bufbuild/protobuf";
import {
  type ContextValues,
  createContextKey,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import { accessOf, rolesOf } from "../../shared/api.js";
import { AppError } from "../../shared/errors.js";
import type { Logger } from "../../shared/log.js";
import { type JwtVerifier, looksLikeJwt, TokenRejected } from "../auth/jwt-verify.js";
import { UNAUTHENTICATED_MESSAGE, verifyApiKey } from "../auth/keys.js";
import { FailureLockout, type LockoutOptions } from "../auth/lockout.js";
import type { RevocationList } from "../auth/revocation.js";
import { roleProtoName } from "../auth/roles.js";
import { type Principal, principalKey } from "../context.js";
import type { RateLimits } from "./rate-limit.js";

/** The standard services that answer without credentials (probes and tooling use them). */
const OPEN_SERVICES: ReadonlySet<string> = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

/** RefreshToken authenticates by the refresh token in its request, not by a header. */
const SELF_AUTHENTICATED: ReadonlySet<string> = new Set(["tronpay.v1.AdminService/RefreshToken"]);

/** How the caller authenticated: IssueToken needs an API key, RevokeToken looks at jti. */
export interface Credential {
  kind: "api_key" | "jwt";
  /** The API key presented, or the one our JWT descends from ("" for external JWTs). */
  apiKeyId: string;
  jti?: string;
}

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
 * Authenticates every call (API key in `authorization: Bearer tp_…` or `x-api-key`),
 * authorizes it against the roles its proto declares (rolesOf), and puts the principal in the
 * call's context. Throws AppErrors; errorInterceptor, outermost, turns them into responses.
 */
export function createAuthInterceptor(deps: AuthDeps): Interceptor {
  const lockout = new FailureLockout(deps.lockout ?? { maxFailures: 20, windowMs: 60_000 });
  const failures = deps.limits ?? memoryFailures(lockout, deps.clock);
  return (next) => async (req) => {
    if (OPEN_SERVICES.has(req.service.typeName)) return next(req);
    const method = `${req.service.typeName}/${req.method.name}`;
    const ip = req.contextValues.get(clientIpKey);
    // Without a peer address all callers share one bucket: still bounded, but one noisy
    // client can then lock out the rest. serveCore should pass clientContextValues.
    const bucket = ip ?? "unknown";
    await failures.checkAuthFailures(bucket);
    if (SELF_AUTHENTICATED.has(method)) {
      await deps.limits?.consume(`ip:${bucket}`, method, true);
      return next(req);
    }
    let auth: { principal: Principal; credential: Credential };
    try {
      auth = await authenticate(deps, req.header, ip);
    } catch (err) {
      if (err instanceof AppError && err.reason === "auth.unauthenticated") {
        await failures.failedAuth(bucket);
        const cause = err.cause instanceof Error ? err.cause.message : "unknown";
        deps.log.warn({ ip, method, cause }, "authentication failed");
      }
      throw err;
    }
    authorize(auth.principal, req.method);
    await deps.limits?.consume(auth.principal.id, method, accessOf(req.method)?.write === true);
    req.contextValues.set(principalKey, auth.principal);
    req.contextValues.set(credentialKey, auth.credential);
    return next(req);
  };
}

/** Verifies the presented credential: an API key, or a JWT that is not revoked. */
async function authenticate(
  deps: AuthDeps,
  header: Headers,
  ip: string | undefined,
): Promise<{ principal: Principal; credential: Credential }> {
  const presented = presentedKey(header);
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
      credential: { kind: "jwt", apiKeyId: token.apiKeyId, jti: token.jti },
    };
  }
  const principal = await verifyApiKey(deps.pool, presented, { ip, now: deps.clock() });
  return { principal, credential: { kind: "api_key", apiKeyId: principal.id.slice(4) } };
}

/** The process-local failure lockout behind the RateLimits failure interface. */
function memoryFailures(
  lockout: FailureLockout,
  clock: () => number,
): Pick<RateLimits, "checkAuthFailures" | "failedAuth"> {
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

/** The presented API key from the headers; throws auth.unauthenticated when there is none. */
function presentedKey(header: Headers): string {
  const authorization = header.get("authorization");
  if (authorization !== null) {
    const m = /^Bearer +(\S+)$/i.exec(authorization.trim());
    if (!m) throw unauthenticated("authorization header is not a Bearer credential");
    return m[1] as string;
  }
  const apiKey = header.get("x-api-key");
  if (apiKey !== null) return apiKey.trim();
  throw unauthenticated("no credentials presented");
}

/** Passes when the principal holds any role the method allows. */
function authorize(principal: Principal, method: DescMethod): void {
  const allowed = rolesOf(method);
  if (principal.roles.some((role) => allowed.includes(role))) return;
  throw new AppError("auth.permission_denied", "your roles do not allow this call", {
    metadata: { required: allowed.map(roleProtoName).join(",") },
  });
}

function unauthenticated(cause: string): AppError {
  return new AppError("auth.unauthenticated", UNAUTHENTICATED_MESSAGE, {
    cause: new Error(cause),
  });
}
