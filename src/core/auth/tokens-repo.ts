import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

/** An issued_tokens row: an access token and its refresh token (stored as a hash). */
export const IssuedTokenRow = z.object({
  jti: z.string(),
  subject: z.string(),
  api_key_id: z.string(),
  roles: z.array(z.string()),
  issued_at: z.number(),
  expires_at: z.number(),
  refresh_hash: z.instanceof(Buffer),
  refresh_expires_at: z.number(),
  refreshed_at: z.number().nullable(),
  revoked_at: z.number().nullable(),
  revoked_reason: z.string().nullable(),
  family_id: z.string(),
});
export type IssuedTokenRow = z.infer<typeof IssuedTokenRow>;

/** The row with what a refresh needs of its key: the key's roles, and whether it is active. */
const TokenWithKey = IssuedTokenRow.extend({
  key_roles: z.array(z.string()),
  key_active: z.boolean(),
});
type TokenWithKey = z.infer<typeof TokenWithKey>;

const COLUMNS = sql.fragment`jti, subject, api_key_id, roles, issued_at, expires_at, refresh_hash,
  refresh_expires_at, refreshed_at, revoked_at, revoked_reason, family_id`;

const at = (ms: number) => sql.timestamp(new Date(ms));

/** Inserts a newly minted token pair (the refresh secret's sha256 only). */
export async function insertIssuedToken(
  tx: CommonQueryMethods,
  t: {
    jti: string;
    subject: string;
    apiKeyId: string;
    roles: string[];
    issuedAt: number;
    expiresAt: number;
    refreshHash: Buffer;
    refreshExpiresAt: number;
    familyId: string;
  },
): Promise<void> {
  await tx.query(sql.unsafe`
    INSERT INTO issued_tokens (jti, subject, api_key_id, roles, issued_at, expires_at, refresh_hash,
                               refresh_expires_at, family_id)
    VALUES (${t.jti}, ${t.subject}, ${t.apiKeyId}, ${sql.array(t.roles, "text")},
            ${at(t.issuedAt)}, ${at(t.expiresAt)}, ${sql.binary(t.refreshHash)},
            ${at(t.refreshExpiresAt)}, ${t.familyId})`);
}

/**
 * The token `jti` locked FOR UPDATE, with its key's roles and whether the key is active at
 * `now` (not revoked, not expired); null when unknown.
 */
export async function lockTokenWithKey(
  tx: CommonQueryMethods,
  jti: string,
  now: number,
): Promise<TokenWithKey | null> {
  return tx.maybeOne(sql.type(TokenWithKey)`
    SELECT t.jti, t.subject, t.api_key_id, t.roles, t.issued_at, t.expires_at, t.refresh_hash,
           t.refresh_expires_at, t.refreshed_at, t.revoked_at, t.revoked_reason, t.family_id,
           k.roles AS key_roles,
           (k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ${at(now)})) AS key_active
    FROM issued_tokens t JOIN api_keys k ON k.id = t.api_key_id
    WHERE t.jti = ${jti} FOR UPDATE OF t`);
}

/** Marks token `jti`'s refresh token as exchanged at `now`. */
export async function setTokenRefreshed(
  tx: CommonQueryMethods,
  jti: string,
  now: number,
): Promise<void> {
  await tx.query(sql.unsafe`UPDATE issued_tokens SET refreshed_at = ${at(now)} WHERE jti = ${jti}`);
}

/** The token `jti` locked FOR UPDATE, or null. */
export async function lockToken(
  tx: CommonQueryMethods,
  jti: string,
): Promise<IssuedTokenRow | null> {
  return tx.maybeOne(
    sql.type(IssuedTokenRow)`SELECT ${COLUMNS} FROM issued_tokens WHERE jti = ${jti} FOR UPDATE`,
  );
}

/** Revokes token `jti` at `now` for `reason`. */
export async function setTokenRevoked(
  tx: CommonQueryMethods,
  jti: string,
  now: number,
  reason: string,
): Promise<void> {
  await tx.query(sql.unsafe`
    UPDATE issued_tokens SET revoked_at = ${at(now)}, revoked_reason = ${reason} WHERE jti = ${jti}`);
}

/** Revokes at `now` every token of key `apiKeyId` whose refresh token still lives; returns them. */
export async function revokeLiveTokensOfKey(
  tx: CommonQueryMethods,
  apiKeyId: string,
  now: number,
): Promise<readonly IssuedTokenRow[]> {
  return tx.any(sql.type(IssuedTokenRow)`
    UPDATE issued_tokens SET revoked_at = ${at(now)}, revoked_reason = 'api key revoked'
    WHERE api_key_id = ${apiKeyId} AND revoked_at IS NULL AND refresh_expires_at > ${at(now)}
    RETURNING ${COLUMNS}`);
}

/** Revokes at `now` every unrevoked token of refresh family `familyId`; returns them. */
export async function revokeTokensOfFamily(
  tx: CommonQueryMethods,
  familyId: string,
  now: number,
): Promise<readonly IssuedTokenRow[]> {
  return tx.any(sql.type(IssuedTokenRow)`
    UPDATE issued_tokens SET revoked_at = ${at(now)}, revoked_reason = 'refresh token reused'
    WHERE family_id = ${familyId} AND revoked_at IS NULL
    RETURNING ${COLUMNS}`);
}

/** Tokens revoked at or after `sinceMs` whose access token has not expired at `now`. */
export async function tokensRevokedSince(
  db: CommonQueryMethods,
  sinceMs: number,
  now: number,
): Promise<readonly IssuedTokenRow[]> {
  return db.any(sql.type(IssuedTokenRow)`
    SELECT ${COLUMNS} FROM issued_tokens
    WHERE revoked_at IS NOT NULL AND revoked_at >= ${at(sinceMs)} AND expires_at > ${at(now)}`);
}
