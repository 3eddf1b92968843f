import { readFileSync, statSync } from "node:fs";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import type { Role } from "../../gen/tronpay/v1/options_pb.js";
import type { Principal } from "../kernel/context.js";
import { parseRoleName } from "./roles.js";
import type { SigningKey } from "./signing-key.js";

/**
 * JWT verification per RFC 8725: the algorithm comes from an allowlist, never from the token
 * (so no `none`, and no HMAC with a public key as the secret); iss, aud, exp, nbf, sub and
 * jti are required; `typ` is checked; keys come from core's own key or a JWKS (file or URL)
 * looked up by kid.
 */

/** Access tokens carry this typ (RFC 9068), so an ID token or refresh token is not accepted. */
export const ACCESS_TOKEN_TYP = "at+jwt";
/** Asymmetric only: an HMAC algorithm here would let a public JWK act as a shared secret. */
const EXTERNAL_ALGORITHMS = ["EdDSA", "ES256", "ES384", "RS256", "PS256"] as const;
const MAX_TOKEN_LENGTH = 8 * 1024;
// A JWKS URL is refetched on an unknown kid at most this often, so bad kids cannot make us spin.
const URL_REFETCH_COOLDOWN_MS = 30_000;

export interface JwtVerifierOptions {
  /** Core's own key and issuer: tokens from IssueToken/RefreshToken. */
  own: { key: SigningKey; issuer: string };
  /** The audience every accepted token must name. */
  audience: string;
  /** Tolerated clock skew for exp and nbf (s). */
  leewaySec: number;
  /** Tokens of another issuer, verified against its JWKS (file path or https URL). */
  external?: { issuer: string; jwks: string; algorithms?: readonly string[] };
  /** The clock (ms). */
  clock: () => number;
}

/** A verified access token: who it is for, and the claims the auth path needs. */
export interface VerifiedToken {
  principal: Principal;
  jti: string;
  /** exp in ms. */
  expiresAt: number;
  /** The API key a token of ours descends from ("" for external tokens). */
  apiKeyId: string;
  /** That key's bindings, carried by our tokens (claims `aips`, `onion`); none for others. */
  binding: { allowedIps: readonly string[]; onionOnly: boolean };
}

/** Why a token was refused; the message is for logs only, clients see one generic answer. */
export class TokenRejected extends Error {}

/** A verifier: resolves to the token's claims or rejects with TokenRejected. */
export type JwtVerifier = (token: string) => Promise<VerifiedToken>;

/** Builds the verifier; throws at start when the external JWKS file cannot be read. */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const ownKeys = createLocalJWKSet({ keys: [options.own.key.publicJwk] });
  const externalKeys = options.external ? jwksSource(options.external.jwks) : undefined;
  return async (token) => {
    if (token.length > MAX_TOKEN_LENGTH) throw new TokenRejected("token too long");
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new TokenRejected("malformed token header");
    }
    const ours = kid === options.own.key.kid;
    if (!ours && (!options.external || !externalKeys)) {
      throw new TokenRejected(`unknown kid ${String(kid).slice(0, 64)}`);
    }
    const issuer = ours ? options.own.issuer : (options.external?.issuer as string);
    const algorithms = ours
      ? ["EdDSA"]
      : [...(options.external?.algorithms ?? EXTERNAL_ALGORITHMS)].filter(isAsymmetric);
    const payload = await verify(token, ours ? ownKeys : (externalKeys as JWTVerifyGetKey), {
      issuer,
      audience: options.audience,
      algorithms,
      leewaySec: options.leewaySec,
      now: options.clock(),
    });
    return toVerified(payload, ours);
  };
}

async function verify(
  token: string,
  keys: JWTVerifyGetKey,
  o: { issuer: string; audience: string; algorithms: string[]; leewaySec: number; now: number },
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, keys, {
      issuer: o.issuer,
      audience: o.audience,
      algorithms: o.algorithms,
      typ: ACCESS_TOKEN_TYP,
      clockTolerance: o.leewaySec,
      currentDate: new Date(o.now),
      requiredClaims: ["iss", "aud", "exp", "nbf", "sub", "jti"],
    });
    return payload;
  } catch (err) {
    if (err instanceof errors.JOSEError) throw new TokenRejected(`${err.code}: ${err.message}`);
    throw new TokenRejected(err instanceof Error ? err.message : "invalid token");
  }
}

function toVerified(payload: JWTPayload, ours: boolean): VerifiedToken {
  const sub = payload.sub as string;
  const claimed = Array.isArray(payload.roles) ? payload.roles : [];
  const roles = claimed
    .filter((r): r is string => typeof r === "string")
    .map(parseRoleName)
    .filter((r): r is Role => r !== undefined);
  const apiKeyId = ours && typeof payload.akid === "string" ? payload.akid : "";
  // Our tokens act as the key's principal; others are named by their subject.
  const id = ours ? sub : `jwt:${sub}`;
  const aips = ours && Array.isArray(payload.aips) ? payload.aips : [];
  return {
    principal: { id, roles },
    jti: payload.jti as string,
    expiresAt: (payload.exp as number) * 1000,
    apiKeyId,
    binding: {
      allowedIps: aips.filter((a): a is string => typeof a === "string"),
      onionOnly: ours && payload.onion === true,
    },
  };
}

function isAsymmetric(alg: string): boolean {
  return !/^HS|^none$/i.test(alg);
}

/** A key resolver over a JWKS URL (jose caches and refetches on an unknown kid) or file. */
function jwksSource(location: string): JWTVerifyGetKey {
  if (/^https?:\/\//.test(location)) {
    return createRemoteJWKSet(new URL(location), { cooldownDuration: URL_REFETCH_COOLDOWN_MS });
  }
  return fileJwks(location);
}

/** A JWKS file, re-read when a token names a kid it lacks and the file has changed (rotation). */
function fileJwks(path: string): JWTVerifyGetKey {
  const read = () => createLocalJWKSet(JSON.parse(readFileSync(path, "utf8")) as { keys: JWK[] });
  let current = read();
  let loadedMtime = statSync(path).mtimeMs;
  return async (header, token) => {
    try {
      return await current(header, token);
    } catch (err) {
      // Only an unchanged file is trusted to still lack the kid: no re-read per bad token.
      const mtime = statSync(path).mtimeMs;
      if (!(err instanceof errors.JWKSNoMatchingKey) || mtime === loadedMtime) throw err;
      current = read();
      loadedMtime = mtime;
      return current(header, token);
    }
  };
}
