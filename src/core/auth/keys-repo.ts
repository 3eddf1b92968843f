import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

/** An api_keys row without its secret hash (which only verification reads). */
export const ApiKeyRow = z.object({
  id: z.string(),
  name: z.string(),
  roles: z.array(z.string()),
  owner: z.string(),
  created_by: z.string(),
  created_at: z.number(),
  expires_at: z.number().nullable(),
  revoked_at: z.number().nullable(),
  allowed_ips: z.array(z.string()),
  onion_only: z.boolean(),
  last_used_at: z.number().nullable(),
});
export type ApiKeyRow = z.infer<typeof ApiKeyRow>;

/** The row with its secret hash, for verifying a presented key. */
const ApiKeyWithHash = ApiKeyRow.extend({ secret_hash: z.instanceof(Buffer) });
type ApiKeyWithHash = z.infer<typeof ApiKeyWithHash>;

const COLUMNS = sql.fragment`id, name, roles, owner, created_by, created_at, expires_at,
  revoked_at, allowed_ips, onion_only, last_used_at`;

const at = (ms: number) => sql.timestamp(new Date(ms));

/** Inserts a key (its hash only) created at `now`; returns the stored row. */
export async function insertApiKey(
  tx: CommonQueryMethods,
  k: {
    id: string;
    name: string;
    secretHash: Buffer;
    roles: string[];
    owner: string;
    createdBy: string;
    now: number;
    expiresAt?: number;
    allowedIps: string[];
    onionOnly: boolean;
  },
): Promise<ApiKeyRow> {
  const expires = k.expiresAt === undefined ? null : at(k.expiresAt);
  return tx.one(sql.type(ApiKeyRow)`
    INSERT INTO api_keys (id, name, secret_hash, roles, owner, created_by, created_at, expires_at, allowed_ips, onion_only)
    VALUES (${k.id}, ${k.name}, ${sql.binary(k.secretHash)}, ${sql.array(k.roles, "text")},
            ${k.owner}, ${k.createdBy}, ${at(k.now)}, ${expires},
            ${sql.array(k.allowedIps, "text")}, ${k.onionOnly})
    RETURNING ${COLUMNS}`);
}

/** The key with that id, or null. */
export async function findApiKey(db: CommonQueryMethods, id: string): Promise<ApiKeyRow | null> {
  return db.maybeOne(sql.type(ApiKeyRow)`SELECT ${COLUMNS} FROM api_keys WHERE id = ${id}`);
}

/** The key with that id locked FOR UPDATE until the transaction ends, or null. */
export async function lockApiKey(tx: CommonQueryMethods, id: string): Promise<ApiKeyRow | null> {
  return tx.maybeOne(
    sql.type(ApiKeyRow)`SELECT ${COLUMNS} FROM api_keys WHERE id = ${id} FOR UPDATE`,
  );
}

/** Sets revoked_at of key `id` to `now`; returns the updated row. */
export async function setApiKeyRevoked(
  tx: CommonQueryMethods,
  id: string,
  now: number,
): Promise<ApiKeyRow> {
  return tx.one(sql.type(ApiKeyRow)`
    UPDATE api_keys SET revoked_at = ${at(now)} WHERE id = ${id} RETURNING ${COLUMNS}`);
}

/**
 * Up to `limit` keys, newest first by (created_at, id), after the cursor when given; only
 * active ones (not revoked, not expired at `now`) unless includeInactive.
 */
export async function listApiKeyRows(
  db: CommonQueryMethods,
  q: {
    includeInactive: boolean;
    now: number;
    after?: { createdAt: number; id: string };
    limit: number;
  },
): Promise<readonly ApiKeyRow[]> {
  const conditions = [sql.fragment`TRUE`];
  if (!q.includeInactive) {
    conditions.push(
      sql.fragment`revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ${at(q.now)})`,
    );
  }
  if (q.after) {
    conditions.push(sql.fragment`(created_at, id) < (${at(q.after.createdAt)}, ${q.after.id})`);
  }
  return db.any(sql.type(ApiKeyRow)`
    SELECT ${COLUMNS} FROM api_keys WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY created_at DESC, id DESC LIMIT ${q.limit}`);
}

/** The key with that id and its secret hash, or null. */
export async function findApiKeyWithHash(
  db: CommonQueryMethods,
  id: string,
): Promise<ApiKeyWithHash | null> {
  return db.maybeOne(
    sql.type(ApiKeyWithHash)`SELECT ${COLUMNS}, secret_hash FROM api_keys WHERE id = ${id}`,
  );
}

/** Sets last_used_at of key `id` to `now`. */
export async function touchApiKey(db: CommonQueryMethods, id: string, now: number): Promise<void> {
  await db.query(sql.unsafe`UPDATE api_keys SET last_used_at = ${at(now)} WHERE id = ${id}`);
}

/** The key with that id while it is active (not revoked, not expired at `now`), or null. */
export async function findActiveApiKey(
  db: CommonQueryMethods,
  id: string,
  now: number,
): Promise<ApiKeyRow | null> {
  return db.maybeOne(sql.type(ApiKeyRow)`
    SELECT ${COLUMNS} FROM api_keys WHERE id = ${id} AND revoked_at IS NULL
      AND (expires_at IS NULL OR expires_at > ${at(now)})`);
}

// Arbitrary constant: serializes concurrent bootstraps (launcher and CLI, several replicas).
const BOOTSTRAP_LOCK = 7_242_002;

/**
 * Takes the bootstrap lock for the rest of the transaction, then says whether any API key
 * exists: so that of concurrent bootstraps only the first sees an empty table.
 */
export async function lockedHasApiKeys(tx: CommonQueryMethods): Promise<boolean> {
  await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`);
  return tx.exists(sql.type(z.object({ x: z.number() }))`SELECT 1 AS x FROM api_keys`);
}
