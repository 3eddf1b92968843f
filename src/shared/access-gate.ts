import type { DescMethod } from "@bufbuild/protobuf";
import type { Role } from "../gen/tronpay/v1/options_pb.js";
import { accessOf, roleProtoName, rolesOf } from "./api.js";
import { type ClientOrigin, credentialHash, failureBucket } from "./client-origin.js";
import { presentedCredential } from "./credentials.js";
import { AppError } from "./errors.js";
import type { Logger } from "./log.js";
import type { AuthFailures, Quota, RateLimits } from "./rate-limit.js";
import { TtlCache } from "./ttl-cache.js";

/**
 * The access check every call passes, in core (an interceptor) and in the edge (before it
 * forwards): lockout of callers with too many failed authentications (per failureBucket, and
 * a global breaker that then sheds credentials not seen to succeed lately), the credential, the
 * roles the method declares in the protos, and the per-principal rate limit. Only how a
 * credential is verified differs between the two: core reads the database and its JWT keys,
 * the edge asks core (WhoAmI) and keeps the answer briefly.
 */

/** Who is calling. */
export interface Principal {
  /** Stable id: "key:<api key id>" or "jwt:<sub>". */
  id: string;
  roles: readonly Role[];
}

/** How the caller authenticated: IssueToken needs an API key, RevokeToken looks at jti. */
export interface Credential {
  kind: "api_key" | "jwt" | "client_cert";
  /** The API key presented, or the one our JWT descends from ("" for external JWTs). */
  apiKeyId: string;
  jti?: string;
  /** A token's exp, or an API key's expires_at (ms); undefined when it never expires. */
  expiresAt?: number;
}

/** A verified credential. */
export interface Authenticated {
  principal: Principal;
  credential: Credential;
}

/** Where a credential was presented: the client's origin and the request's id, if known. */
export interface PresentedBy {
  origin: ClientOrigin;
  requestId?: string;
}

/**
 * Verifies a presented credential; rejects with auth.unauthenticated (the specific cause in
 * the error's `cause`, for the log) when it is not valid.
 */
export type Authenticate = (presented: string, from: PresentedBy) => Promise<Authenticated>;

/** The failed-authentication counter (rate-limit.ts: the rate limits' own, or a memory one). */
export type FailureCounter = AuthFailures;

export interface AccessGateDeps {
  authenticate: Authenticate;
  failures: FailureCounter;
  /** Per-principal request limits; none: unlimited. */
  limits?: RateLimits;
  log: Logger;
  /** The clock of the known-good credentials' memory; Date.now by default. */
  clock?: () => number;
}

/** What a call that passed carries on. Open methods have no principal. */
export interface Admitted {
  principal?: Principal;
  credential?: Credential;
  /** The caller's bucket after this call, when limits are configured. */
  quota?: Quota;
  /**
   * For a self-authenticated call (RefreshToken): counts it as a failed authentication; the
   * caller calls it when the handler refuses the credential in the request.
   */
  refused?: () => Promise<void>;
}

/** One call to check. */
export interface CallToCheck {
  /** The service's full name ("tronpay.v1.PayoutService"). */
  service: string;
  method: DescMethod;
  header: Headers;
  /** Where the call came from (failures are counted per failureBucket of it). */
  origin: ClientOrigin;
  /** Who the transport proved the caller to be (mTLS), used when no credential is presented. */
  certified?: Authenticated;
  /** The request's correlation id, passed to the authenticator. */
  requestId?: string;
  /** The credential a self-authenticated call carries in its request (the refresh token). */
  bodyCredential?: string;
}

/** The standard services that answer without credentials (probes and tooling use them). */
const OPEN_SERVICES: ReadonlySet<string> = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

/** RefreshToken authenticates by the refresh token in its request, not by a header. */
const SELF_AUTHENTICATED: ReadonlySet<string> = new Set(["tronpay.v1.AdminService/RefreshToken"]);

/** True for an RPC the gate admits without a credential (open services, RefreshToken). */
export function admitsWithoutCredential(method: DescMethod): boolean {
  const service = method.parent.typeName;
  return OPEN_SERVICES.has(service) || SELF_AUTHENTICATED.has(`${service}/${method.name}`);
}

/** How long, and how many, credentials that authenticated are remembered as known-good. */
const KNOWN_GOOD_TTL_MS = 10 * 60_000;
const KNOWN_GOOD_MAX = 10_000;

/** Builds the check; `admit` resolves for a call that may proceed and throws otherwise. */
export function createAccessGate(deps: AccessGateDeps): {
  admit(call: CallToCheck): Promise<Admitted>;
} {
  // Fingerprints (never the credentials) of credentials that authenticated lately: while the
  // failure breaker is open these still get through, and only unknown ones are shed.
  const knownGood = new TtlCache<true>(KNOWN_GOOD_MAX, deps.clock ?? Date.now);
  return {
    async admit({ service, method, header, origin, certified, requestId, bodyCredential }) {
      if (OPEN_SERVICES.has(service)) return {};
      const name = `${service}/${method.name}`;
      // No usable credential: refused below (unless self-authenticated), counted by origin alone.
      let presented: string | undefined;
      let unusable: unknown;
      try {
        presented = presentedCredential(header);
      } catch (err) {
        unusable = err;
      }
      if (SELF_AUTHENTICATED.has(name)) {
        const bucket = failureBucket(origin, bodyCredential);
        await deps.failures.checkAuthFailures(bucket);
        return {
          quota: await deps.limits?.consume(`anon:${bucket}`, name, true),
          refused: async () => {
            await deps.failures.failedAuth(bucket);
            deps.log.warn(
              { ip: origin.ip, onion: origin.viaOnion || undefined, method: name },
              "authentication failed",
            );
          },
        };
      }
      const bucket = failureBucket(origin, presented);
      const fingerprint = presented === undefined ? undefined : credentialHash(presented);
      // A client certificate is proven by the transport: not shed by the breaker either.
      const known =
        fingerprint === undefined ? certified !== undefined : knownGood.get(fingerprint) === true;
      await deps.failures.checkAuthFailures(bucket, known);
      if (presented === undefined && certified) return await admitted(certified);
      let auth: Authenticated;
      try {
        if (presented === undefined) throw unusable;
        auth = await deps.authenticate(presented, { origin, requestId });
      } catch (err) {
        if (err instanceof AppError && err.reason === "auth.unauthenticated") {
          await deps.failures.failedAuth(bucket);
          const cause = err.cause instanceof Error ? err.cause.message : "unknown";
          deps.log.warn(
            { ip: origin.ip, onion: origin.viaOnion || undefined, method: name, cause },
            "authentication failed",
          );
        }
        throw err;
      }
      if (fingerprint !== undefined) knownGood.set(fingerprint, true, KNOWN_GOOD_TTL_MS);
      return await admitted(auth);

      async function admitted(a: Authenticated): Promise<Admitted> {
        authorize(a.principal, method);
        const write = accessOf(method)?.write === true;
        const quota = await deps.limits?.consume(a.principal.id, name, write);
        return { ...a, quota };
      }
    },
  };
}

/** Passes when the principal holds any role the method allows; else auth.permission_denied. */
export function authorize(principal: Principal, method: DescMethod): void {
  const allowed = rolesOf(method);
  if (principal.roles.some((role) => allowed.includes(role))) return;
  throw new AppError("auth.permission_denied", "your roles do not allow this call", {
    metadata: { required: allowed.map(roleProtoName).join(",") },
  });
}
