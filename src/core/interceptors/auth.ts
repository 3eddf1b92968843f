import {
  type ContextValues,
  createContextKey,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import type { Role } from "../../gen/tronpay/v1/options_pb.js";
import { type Authenticated, type Credential, createAccessGate } from "../../shared/access-gate.js";
import {
  CLIENT_HEADER,
  CLIENT_MAC_HEADER,
  type ClientOrigin,
  type ForwardedOrigin,
  peerOrigin,
  readForwardedOrigin,
  SeenStatements,
} from "../../shared/client-origin.js";
import { looksLikeJwt, unauthenticated } from "../../shared/credentials.js";
import { reasonOf } from "../../shared/errors.js";
import type { Logger } from "../../shared/log.js";
import { createAuthFailures, type RateLimits } from "../../shared/rate-limit.js";
import { certifiedPrincipal } from "../auth/client-cert.js";
import { type JwtVerifier, TokenRejected } from "../auth/jwt-verify.js";
import { activeKeyRoles, checkBinding, verifyApiKey } from "../auth/keys.js";
import type { RevocationList } from "../auth/revocation.js";
import { principalKey } from "../kernel/context.js";

export type { Credential } from "../../shared/access-gate.js";

/** The credential of the call (undefined for open and self-authenticated methods). */
export const credentialKey = createContextKey<Credential | undefined>(undefined, {
  description: "credential",
});

/** Where the call came from: the TCP peer, or the client the edge vouches for. */
export const clientOriginKey = createContextKey<CallOrigin>(
  { peer: { ip: undefined, viaOnion: false }, forwarded: { kind: "none" } },
  { description: "client origin" },
);

/** The TCP peer, what the request's x-tronpay-client header says, and its client certificate. */
export interface CallOrigin {
  peer: ClientOrigin;
  forwarded: ForwardedOrigin;
  /** The principal of a verified, listed client certificate (mTLS; auth/client-cert.ts). */
  certified?: Authenticated;
}

/**
 * Context values for the adapter's `contextValues` option: the peer address, and the origin
 * the edge states for its client, believed only with a valid MAC under `forwardSecret`
 * (TRONPAY_EDGE_FORWARD_SECRET; see shared/client-origin.ts). API keys' allowed_ips and
 * onion_only bindings and the failed-authentication buckets use that origin. Over TLS, a
 * client certificate listed in `certPrincipals` is the caller when no credential is presented.
 */
export function clientContextValues(options: {
  forwardSecret: string;
  certPrincipals?: ReadonlyMap<string, Role[]>;
  /** The clock statements' age is checked against. */
  clock?: () => number;
}) {
  const { forwardSecret, certPrincipals = new Map(), clock = Date.now } = options;
  // One per core process: a statement of origin is believed once (see shared/client-origin.ts).
  const seen = new SeenStatements();
  return (req: {
    url?: string;
    socket: { remoteAddress?: string };
    headers: Record<string, string | string[] | undefined>;
  }): ContextValues => {
    const values = createContextValues();
    const one = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(",") : v;
    };
    values.set(clientOriginKey, {
      peer: peerOrigin(req.socket.remoteAddress),
      forwarded: readForwardedOrigin(forwardSecret, one(CLIENT_HEADER), one(CLIENT_MAC_HEADER), {
        procedure: (req.url ?? "").split("?")[0] ?? "",
        requestId: one("x-request-id"),
        now: clock(),
        seen,
      }),
      certified: certifiedPrincipal(req.socket, certPrincipals),
    });
    return values;
  };
}

export interface AuthDeps {
  pool: DatabasePool;
  log: Logger;
  clock: () => number;
  /**
   * Failed-authentication lockout in memory when no `limits` are given: maxFailures per bucket
   * (default 20) and maxGlobalFailures in all (default 50 × maxFailures) per windowMs (60 s).
   */
  lockout?: { maxFailures: number; windowMs: number; maxGlobalFailures?: number };
  /** JWT verification; without it Bearer JWTs are refused. */
  jwt?: { verify: JwtVerifier; revocations: RevocationList };
  /** Per-principal request limits; when set, failed authentications are counted there. */
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
  const lockout = deps.lockout ?? { maxFailures: 20, windowMs: 60_000 };
  const gate = createAccessGate({
    authenticate: (presented, from) => authenticate(deps, presented, from.origin),
    failures:
      deps.limits ??
      createAuthFailures({
        authFailuresPerMin: lockout.maxFailures,
        authFailuresGlobalPerMin: lockout.maxGlobalFailures,
        windowSec: lockout.windowMs / 1000,
        keyPrefix: "",
      }),
    limits: deps.limits,
    log: deps.log,
    clock: deps.clock,
  });
  return (next) => async (req) => {
    // Without a peer address failures are counted per credential, as for onion clients (see
    // failureBucket); allowed_ips then never match. serveCore should pass clientContextValues.
    const { peer, forwarded, certified } = req.contextValues.get(clientOriginKey);
    if (forwarded.kind === "untrusted") {
      // A hop claims to speak for a client and cannot prove it: refuse rather than guess, so a
      // misconfigured edge is seen at once (and a forged claim gets nothing).
      deps.log.warn({ peer: peer.ip, why: forwarded.why }, "client origin not trusted");
      throw unauthenticated(`${CLIENT_HEADER} not trusted: ${forwarded.why}`);
    }
    const admitted = await gate.admit({
      service: req.service.typeName,
      method: req.method,
      header: req.header,
      origin: forwarded.kind === "trusted" ? forwarded.origin : peer,
      certified,
      bodyCredential: bodyCredentialOf(req),
    });
    if (admitted.principal) req.contextValues.set(principalKey, admitted.principal);
    if (admitted.credential) req.contextValues.set(credentialKey, admitted.credential);
    if (!admitted.refused) return next(req);
    try {
      return await next(req);
    } catch (err) {
      // A self-authenticated call (RefreshToken) whose credential the handler refused.
      if (reasonOf(err) === "auth.unauthenticated") await admitted.refused();
      throw err;
    }
  };
}

/** The refresh token a unary RefreshToken request carries (the call's credential). */
function bodyCredentialOf(req: { stream: boolean; message?: unknown }): string | undefined {
  if (req.stream) return undefined;
  const message = req.message as { refreshToken?: unknown } | undefined;
  return typeof message?.refreshToken === "string" ? message.refreshToken : undefined;
}

/** Verifies the presented credential: an API key, or a JWT that is not revoked. */
async function authenticate(
  deps: AuthDeps,
  presented: string,
  origin: ClientOrigin,
): Promise<Authenticated> {
  if (!presented.startsWith("tp_") && looksLikeJwt(presented)) {
    if (!deps.jwt) throw unauthenticated("JWTs are not accepted by this server");
    const token = await deps.jwt.verify(presented).catch((err: unknown) => {
      throw unauthenticated(err instanceof TokenRejected ? err.message : "token check failed");
    });
    if (await deps.jwt.revocations.isRevoked(token.jti)) {
      throw unauthenticated(`token ${token.jti} is revoked`);
    }
    checkBinding(`token ${token.jti}`, token.binding, origin);
    let principal = token.principal;
    if (token.apiKeyId !== "") {
      // Our tokens hold only while their key does: revoked, expired or with fewer roles.
      const keyRoles = await activeKeyRoles(deps.pool, token.apiKeyId, deps.clock());
      if (!keyRoles) throw unauthenticated(`the key of token ${token.jti} is no longer active`);
      principal = { ...principal, roles: principal.roles.filter((r) => keyRoles.includes(r)) };
    }
    return {
      principal,
      credential: {
        kind: "jwt",
        apiKeyId: token.apiKeyId,
        jti: token.jti,
        expiresAt: token.expiresAt,
      },
    };
  }
  const { expiresAt, ...principal } = await verifyApiKey(deps.pool, presented, {
    ip: origin.ip,
    viaOnion: origin.viaOnion,
    now: deps.clock(),
  });
  return {
    principal,
    credential: { kind: "api_key", apiKeyId: principal.id.slice(4), expiresAt },
  };
}
