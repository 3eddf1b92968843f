import type { DescMethod } from "@bufbuild/protobuf";
import {
  type ContextValues,
  createContextKey,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import { rolesOf } from "../../shared/api.js";
import { AppError } from "../../shared/errors.js";
import type { Logger } from "../../shared/log.js";
import { UNAUTHENTICATED_MESSAGE, verifyApiKey } from "../auth/keys.js";
import { FailureLockout, type LockoutOptions } from "../auth/lockout.js";
import { roleProtoName } from "../auth/roles.js";
import { type Principal, principalKey } from "../context.js";

/** The standard services that answer without credentials (probes and tooling use them). */
const OPEN_SERVICES: ReadonlySet<string> = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

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
}

/**
 * Authenticates every call (API key in `authorization: Bearer tp_…` or `x-api-key`),
 * authorizes it against the roles its proto declares (rolesOf), and puts the principal in the
 * call's context. Throws AppErrors; errorInterceptor, outermost, turns them into responses.
 */
export function createAuthInterceptor(deps: AuthDeps): Interceptor {
  const lockout = new FailureLockout(deps.lockout ?? { maxFailures: 20, windowMs: 60_000 });
  return (next) => async (req) => {
    if (OPEN_SERVICES.has(req.service.typeName)) return next(req);
    const ip = req.contextValues.get(clientIpKey);
    // Without a peer address all callers share one bucket: still bounded, but one noisy
    // client can then lock out the rest. serveCore should pass clientContextValues.
    const bucket = ip ?? "unknown";
    const now = deps.clock();
    const wait = lockout.retryAfter(bucket, now);
    if (wait > 0) {
      throw new AppError("auth.rate_limited", "too many failed authentications; retry later", {
        metadata: { retry_after_ms: String(wait) },
      });
    }
    let principal: Principal;
    try {
      principal = await verifyApiKey(deps.pool, presentedKey(req.header), { ip, now });
    } catch (err) {
      if (err instanceof AppError && err.reason === "auth.unauthenticated") {
        lockout.fail(bucket, now);
        const cause = err.cause instanceof Error ? err.cause.message : "unknown";
        deps.log.warn(
          { ip, method: `${req.service.typeName}/${req.method.name}`, cause },
          "authentication failed",
        );
      }
      throw err;
    }
    authorize(principal, req.method);
    req.contextValues.set(principalKey, principal);
    return next(req);
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
