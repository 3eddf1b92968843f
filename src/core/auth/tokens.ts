import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { SignJWT } from "jose";
import type { CommonQueryMethods, DatabasePool } from "slonik";
import type { Role } from "../../gen/tronpay/v1/options_pb.js";
import { AppError } from "../../shared/errors.js";
import { appendAudit } from "../kernel/audit.js";
import { ACCESS_TOKEN_TYP } from "./jwt-verify.js";
import { findApiKey } from "./keys-repo.js";
import type { RevocationList } from "./revocation.js";
import { normalizeRoles, roleFromDb, roleToDb } from "./roles.js";
import type { SigningKey } from "./signing-key.js";
import {
  insertIssuedToken,
  lockToken,
  lockTokenWithKey,
  revokeLiveTokensOfKey,
  revokeTokensOfFamily,
  setTokenRefreshed,
  setTokenRevoked,
  tokensRevokedSince,
} from "./tokens-repo.js";

/**
 * Tokens core issues: a short-lived EdDSA access JWT and an opaque single-use refresh token
 * ("tprt_<jti>_<secret>", stored as sha256 of the secret). Every change is audited in the
 * caller's transaction.
 */

export interface TokenSettings {
  key: SigningKey;
  issuer: string;
  audience: string;
  defaultTtlMs: number;
  maxTtlMs: number;
  refreshTtlMs: number;
}

/** What a client receives; the two secrets exist only in this value. */
export interface Issued {
  accessToken: string;
  jti: string;
  expiresAt: number;
  refreshToken: string;
  refreshExpiresAt: number;
}

const REFRESH_FORMAT = /^tprt_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

/** Issues a token for an API key's principal, with a subset of the key's roles; audited. */
export async function issueToken(
  tx: CommonQueryMethods,
  s: TokenSettings,
  input: {
    apiKeyId: string;
    keyRoles: readonly Role[];
    roles: readonly Role[];
    ttlMs?: number;
    now: number;
  },
): Promise<Issued> {
  const requested = input.roles.length === 0 ? input.keyRoles : normalizeRoles(input.roles);
  if (requested.some((r) => !input.keyRoles.includes(r))) {
    throw new AppError("auth.permission_denied", "a token may carry only roles its key has", {
      metadata: { field: "roles" },
    });
  }
  if (input.ttlMs !== undefined && input.ttlMs <= 0) {
    throw new AppError("request.invalid", "ttl must be positive", { metadata: { field: "ttl" } });
  }
  const ttlMs = Math.min(input.ttlMs ?? s.defaultTtlMs, s.maxTtlMs);
  const issued = await mint(tx, s, {
    apiKeyId: input.apiKeyId,
    roles: requested,
    ttlMs,
    now: input.now,
  });
  await appendAudit(tx, {
    actor: `key:${input.apiKeyId}`,
    action: "token.issue",
    subject: `token:${issued.jti}`,
    details: { roles: requested.map(roleToDb), expires_at: issued.expiresAt },
  });
  return issued;
}

/**
 * A refresh token that was already exchanged came back: someone holds a copy (RFC 9700 §4.14).
 * Thrown inside the refresh transaction, which rolls back; the caller then revokes the family
 * (revokeTokenFamily) in a transaction of its own and refuses the call.
 */
export class RefreshTokenReused extends Error {
  constructor(
    readonly familyId: string,
    readonly subject: string,
  ) {
    super("a rotated refresh token was presented again");
  }
}

/**
 * Exchanges a refresh token (single use) for a new token pair of the same family; audited.
 * A rotated (already exchanged) token throws RefreshTokenReused; any other failure is
 * auth.unauthenticated.
 */
export async function refreshToken(
  tx: CommonQueryMethods,
  s: TokenSettings,
  input: { refreshToken: string; now: number },
): Promise<{ issued: Issued; subject: string }> {
  const m = REFRESH_FORMAT.exec(input.refreshToken);
  if (!m) throw refreshRefused();
  const [jti, secret] = [m[1] as string, Buffer.from(m[2] as string, "base64url")];
  const row = await lockTokenWithKey(tx, jti, input.now);
  const hash = createHash("sha256").update(secret).digest();
  if (!row || !timingSafeEqual(hash, row.refresh_hash)) throw refreshRefused();
  if (row.refreshed_at !== null) throw new RefreshTokenReused(row.family_id, row.subject);
  if (row.revoked_at !== null) throw refreshRefused();
  if (row.refresh_expires_at <= input.now || !row.key_active) throw refreshRefused();
  // The key's roles may have shrunk since; the new token gets only what both still allow.
  const roles = row.roles.filter((r) => row.key_roles.includes(r)).map(roleFromDb);
  if (roles.length === 0) throw refreshRefused();
  await setTokenRefreshed(tx, jti, input.now);
  const ttlMs = Math.min(s.defaultTtlMs, s.maxTtlMs);
  const issued = await mint(tx, s, {
    apiKeyId: row.api_key_id,
    roles,
    ttlMs,
    now: input.now,
    familyId: row.family_id,
  });
  await appendAudit(tx, {
    actor: row.subject,
    action: "token.refresh",
    subject: `token:${issued.jti}`,
    details: { from: jti, expires_at: issued.expiresAt },
  });
  return { issued, subject: row.subject };
}

/**
 * Revokes a token (and with it its refresh token) by jti; non-admins only their own. Returns
 * the time of the first revocation. Unknown or foreign jtis are request.not_found alike.
 */
export async function revokeToken(
  tx: CommonQueryMethods,
  list: RevocationList,
  input: { jti: string; by: string; isAdmin: boolean; reason: string; now: number },
): Promise<number> {
  const row = /^[0-9a-f]{32}$/.test(input.jti) ? await lockToken(tx, input.jti) : null;
  if (row === null || (!input.isAdmin && row.subject !== input.by)) {
    throw new AppError("request.not_found", "no token with that jti", {
      metadata: { field: "jti" },
    });
  }
  if (row.revoked_at !== null) return row.revoked_at;
  await setTokenRevoked(tx, input.jti, input.now, input.reason);
  await appendAudit(tx, {
    actor: input.by,
    action: "token.revoke",
    subject: `token:${input.jti}`,
    details: { reason: input.reason },
  });
  // Before commit on purpose: if the commit fails the token is revoked anyway (fail safe).
  await list.revoke(input.jti, row.expires_at);
  return input.now;
}

/** Revokes every live token issued from an API key (when the key is revoked); no audit row. */
export async function revokeTokensOfKey(
  tx: CommonQueryMethods,
  list: RevocationList,
  input: { apiKeyId: string; now: number },
): Promise<number> {
  const rows = await revokeLiveTokensOfKey(tx, input.apiKeyId, input.now);
  for (const r of rows) await list.revoke(r.jti, r.expires_at);
  return rows.length;
}

/**
 * Revokes every token of a refresh family (after a rotated refresh token was reused), audited
 * as `token.family_revoke`; returns how many were live. Runs in its own transaction.
 */
export async function revokeTokenFamily(
  pool: DatabasePool,
  list: RevocationList,
  input: { familyId: string; subject: string; now: number },
): Promise<number> {
  return pool.transaction(async (tx) => {
    const rows = await revokeTokensOfFamily(tx, input.familyId, input.now);
    await appendAudit(tx, {
      actor: input.subject,
      action: "token.family_revoke",
      subject: `token_family:${input.familyId}`,
      details: { reason: "refresh token reused", revoked: rows.map((r) => r.jti) },
    });
    // Before commit on purpose, as in revokeToken: fail safe.
    for (const r of rows) await list.revoke(r.jti, r.expires_at);
    return rows.length;
  });
}

/**
 * Copies revocations recorded in the database since `sinceMs` into `list` (so replicas that
 * share no Redis converge); returns the newest revoked_at seen, the next `sinceMs`.
 */
export async function syncRevocations(
  pool: DatabasePool,
  list: RevocationList,
  input: { sinceMs: number; now: number },
): Promise<number> {
  const rows = await tokensRevokedSince(pool, input.sinceMs, input.now);
  let newest = input.sinceMs;
  for (const r of rows) {
    await list.revoke(r.jti, r.expires_at);
    newest = Math.max(newest, r.revoked_at ?? newest);
  }
  return newest;
}

/**
 * Mints a token pair for a key, in `familyId`'s family (a new family, named by the new jti,
 * when none is given). Neither token outlives the key: both expire by the key's expires_at.
 */
async function mint(
  tx: CommonQueryMethods,
  s: TokenSettings,
  input: {
    apiKeyId: string;
    roles: readonly Role[];
    ttlMs: number;
    now: number;
    familyId?: string;
  },
): Promise<Issued> {
  const jti = randomBytes(16).toString("hex");
  const secret = randomBytes(32);
  const subject = `key:${input.apiKeyId}`;
  const roles = input.roles.map(roleToDb);
  const seconds = (ms: number) => Math.floor(ms / 1000);
  // The key's address and onion bindings travel with its tokens (checked like the key's).
  const key = await findApiKey(tx, input.apiKeyId);
  const keyEnd = key?.expires_at ?? Number.POSITIVE_INFINITY;
  // Whole seconds (the JWT's exp), never past the key's end.
  const expiresAt = seconds(Math.min(input.now + input.ttlMs, keyEnd)) * 1000;
  const refreshExpiresAt = Math.min(input.now + s.refreshTtlMs, keyEnd);
  if (expiresAt <= input.now) throw refreshRefused();
  const claims: Record<string, unknown> = { roles, akid: input.apiKeyId };
  if (key && key.allowed_ips.length > 0) claims.aips = key.allowed_ips;
  if (key?.onion_only) claims.onion = true;
  const accessToken = await new SignJWT(claims)
    .setProtectedHeader({ alg: "EdDSA", kid: s.key.kid, typ: ACCESS_TOKEN_TYP })
    .setIssuer(s.issuer)
    .setAudience(s.audience)
    .setSubject(subject)
    .setJti(jti)
    .setIssuedAt(seconds(input.now))
    .setNotBefore(seconds(input.now))
    .setExpirationTime(seconds(expiresAt))
    .sign(s.key.privateKey);
  await insertIssuedToken(tx, {
    jti,
    subject,
    apiKeyId: input.apiKeyId,
    roles,
    issuedAt: input.now,
    expiresAt,
    refreshHash: createHash("sha256").update(secret).digest(),
    refreshExpiresAt,
    familyId: input.familyId ?? jti,
  });
  return {
    accessToken,
    jti,
    expiresAt,
    refreshToken: `tprt_${jti}_${secret.toString("base64url")}`,
    refreshExpiresAt,
  };
}

function refreshRefused(): AppError {
  return new AppError("auth.unauthenticated", "missing or invalid credentials");
}
