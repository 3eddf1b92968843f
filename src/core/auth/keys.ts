import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { CommonQueryMethods, DatabasePool } from "slonik";
import { type ApiKey, ApiKeySchema } from "../../gen/tronpay/v1/admin_pb.js";
import { Role } from "../../gen/tronpay/v1/options_pb.js";
import { parseKey, unauthenticated } from "../../shared/credentials.js";
import { AppError } from "../../shared/errors.js";
import { appendAudit } from "../kernel/audit.js";
import type { Principal } from "../kernel/context.js";
import { decodePageToken, encodePageToken } from "../kernel/page.js";
import { ipAllowed, normalizeAllowedIps } from "./ip.js";
import {
  type ApiKeyRow,
  findActiveApiKey,
  findApiKey,
  findApiKeyWithHash,
  insertApiKey,
  listApiKeyRows,
  lockApiKey,
  lockedHasApiKeys,
  setApiKeyRevoked,
  touchApiKey,
} from "./keys-repo.js";
import { normalizeRoles, roleFromDb, roleToDb } from "./roles.js";
import { hashSecret, mintKey, sameHash } from "./secret.js";

/**
 * API keys: created (secret shown once, only its hash stored), listed, revoked, and verified
 * on every request. Every change is audited in the caller's transaction.
 */

export interface NewApiKey {
  name: string;
  roles: readonly Role[];
  /** Who the key acts for (see OWNER_FORMAT); four-eyes approval compares owners. */
  owner: string;
  /** Principal id of the creator ("key:…", "cli", "system:bootstrap"). */
  createdBy: string;
  /** The clock's now (ms); created_at, and the floor for expiresAt. */
  now: number;
  expiresAt?: number;
  allowedIps?: readonly string[];
  onionOnly?: boolean;
}

/** A created key: its record and the full key, which exists only in this value. */
export interface CreatedApiKey {
  id: string;
  key: string;
  apiKey: ApiKey;
}

/** Creates a key inside the caller's transaction and audits it; returns the key once. */
export async function createApiKey(
  tx: CommonQueryMethods,
  input: NewApiKey,
): Promise<CreatedApiKey> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100) {
    throw new AppError("request.invalid", "name must be 1–100 characters", {
      metadata: { field: "name" },
    });
  }
  const roles = normalizeRoles(input.roles).map(roleToDb);
  const owner = checkOwner(input.owner);
  if (input.expiresAt !== undefined && input.expiresAt <= input.now) {
    throw new AppError("request.invalid", "expires_at must be in the future", {
      metadata: { field: "expires_at" },
    });
  }
  const allowedIps = normalizeAllowedIps(input.allowedIps ?? []);
  const minted = mintKey();
  const row = await insertApiKey(tx, {
    id: minted.id,
    name,
    secretHash: minted.secretHash,
    roles,
    owner,
    createdBy: input.createdBy,
    now: input.now,
    expiresAt: input.expiresAt,
    allowedIps,
    onionOnly: input.onionOnly ?? false,
  });
  await appendAudit(tx, {
    actor: input.createdBy,
    action: "api_key.create",
    subject: `api_key:${row.id}`,
    details: {
      name,
      roles,
      owner,
      expires_at: row.expires_at,
      allowed_ips: allowedIps,
      onion_only: row.onion_only,
    },
  });
  return { id: row.id, key: minted.key, apiKey: toApiKey(row) };
}

/** Revokes a key at `now` and audits it; revoking a revoked key returns it unchanged. */
export async function revokeApiKey(
  tx: CommonQueryMethods,
  input: { id: string; by: string; reason: string; now: number },
): Promise<ApiKey> {
  const row = await lockApiKey(tx, input.id);
  if (row === null) {
    throw new AppError("request.not_found", "no API key with that id", {
      metadata: { field: "id" },
    });
  }
  if (row.revoked_at !== null) return toApiKey(row);
  const revoked = await setApiKeyRevoked(tx, input.id, input.now);
  await appendAudit(tx, {
    actor: input.by,
    action: "api_key.revoke",
    subject: `api_key:${input.id}`,
    details: { reason: input.reason },
  });
  return toApiKey(revoked);
}

/** One page of keys, newest first; page tokens are opaque cursors over (created_at, id). */
export async function listApiKeys(
  db: CommonQueryMethods,
  input: { includeInactive: boolean; now: number; pageSize: number; pageToken: string },
): Promise<{ apiKeys: ApiKey[]; nextPageToken: string }> {
  const rows = await listApiKeyRows(db, {
    includeInactive: input.includeInactive,
    now: input.now,
    after: decodeCursor(input.pageToken),
    limit: input.pageSize + 1,
  });
  const page = rows.slice(0, input.pageSize);
  const last = page.at(-1);
  const more = rows.length > input.pageSize && last !== undefined;
  return {
    apiKeys: page.map(toApiKey),
    nextPageToken: more ? encodeCursor(last.created_at, last.id) : "",
  };
}

/** Where a presented key comes from: the client address (if known) and the clock's now. */
export interface PresentedFrom {
  ip?: string;
  now: number;
  /** True only when a trusted hop says the request arrived through the onion service. */
  viaOnion?: boolean;
}

export { UNAUTHENTICATED_MESSAGE } from "../../shared/credentials.js";

// Compared against when the id is unknown, so that case costs the same as a wrong secret.
const DUMMY_HASH = Buffer.alloc(32);
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Verifies a presented key and returns its principal (with the key's expiry, ms, when it has
 * one). Every failure is auth.unauthenticated with one client message; the specific cause
 * (for the log) is in the error's `cause`.
 */
export async function verifyApiKey(
  db: CommonQueryMethods,
  presented: string,
  from: PresentedFrom,
): Promise<Principal & { expiresAt?: number }> {
  const parsed = parseKey(presented);
  if (!parsed) throw unauthenticated("malformed key");
  const row = await findApiKeyWithHash(db, parsed.id);
  const matches = sameHash(hashSecret(parsed.secret), row?.secret_hash ?? DUMMY_HASH);
  if (row === null) throw unauthenticated(`unknown key id ${parsed.id}`);
  if (!matches) throw unauthenticated(`wrong secret for key ${parsed.id}`);
  // Only a holder of the real secret gets past here, so the checks below leak nothing.
  if (row.revoked_at !== null) throw unauthenticated(`key ${parsed.id} is revoked`);
  if (row.expires_at !== null && row.expires_at <= from.now) {
    throw unauthenticated(`key ${parsed.id} has expired`);
  }
  checkBinding(
    `key ${parsed.id}`,
    { allowedIps: row.allowed_ips, onionOnly: row.onion_only },
    from,
  );
  if (row.last_used_at === null || from.now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
    // Coarse on purpose: one write per key per minute, not one per request.
    await touchApiKey(db, parsed.id, from.now);
  }
  const principal = { id: `key:${parsed.id}`, roles: row.roles.map(roleFromDb) };
  return row.expires_at === null ? principal : { ...principal, expiresAt: row.expires_at };
}

/**
 * The roles of API key `id` while it is active (not revoked, not expired at `now`); undefined
 * otherwise. Tokens are checked against their key on every use with this, so a token never
 * outlives its key (nor keeps a role the key lost).
 */
export async function activeKeyRoles(
  db: CommonQueryMethods,
  id: string,
  now: number,
): Promise<Role[] | undefined> {
  const row = await findActiveApiKey(db, id, now);
  return row?.roles.map(roleFromDb);
}

/**
 * Refuses (auth.unauthenticated) a credential bound to addresses or to the onion when it is
 * presented from elsewhere: an API key, or a token that carries its key's bindings.
 */
export function checkBinding(
  what: string,
  binding: { allowedIps: readonly string[]; onionOnly: boolean },
  from: { ip?: string; viaOnion?: boolean },
): void {
  if (!ipAllowed(binding.allowedIps, from.ip)) {
    throw unauthenticated(`${what} is not allowed from ${from.ip ?? "an unknown address"}`);
  }
  if (binding.onionOnly && from.viaOnion !== true) throw unauthenticated(`${what} is onion-only`);
}

/** What an owner looks like: 1–100 of letters, digits and . _ @ : + - (e.g. "alice@ops"). */
const OWNER_FORMAT = /^[A-Za-z0-9._@:+-]{1,100}$/;

/** The owner of the bootstrap admin key. */
export const BOOTSTRAP_OWNER = "bootstrap";

/** `owner` when it has OWNER_FORMAT; request.invalid (field owner) otherwise. */
export function checkOwner(owner: string): string {
  if (!OWNER_FORMAT.test(owner)) {
    throw new AppError(
      "request.invalid",
      "owner must be 1–100 letters, digits or . _ @ : + - characters",
      { metadata: { field: "owner" } },
    );
  }
  return owner;
}

/**
 * The owner a principal acts for: an API key's owner for "key:<id>" (API keys and the tokens
 * issued from them); any other principal ("cert:<name>", "jwt:<sub>", "cli") is its own owner.
 * A key id that is not in the table (a wiring bug, or a deleted row) is its own owner too.
 */
export async function ownerOf(db: CommonQueryMethods, principal: string): Promise<string> {
  const m = /^key:([0-9a-f]{24})$/.exec(principal);
  if (!m) return principal;
  const key = await findApiKey(db, m[1] as string);
  return key?.owner ?? principal;
}

/** Creates an admin key when the database has no API key at all; undefined otherwise. */
export async function bootstrapAdminKey(
  pool: DatabasePool,
  name: string,
  now: number = Date.now(),
): Promise<{ id: string; key: string } | undefined> {
  return pool.transaction(async (tx) => {
    if (await lockedHasApiKeys(tx)) return undefined;
    const created = await createApiKey(tx, {
      name,
      roles: [Role.ADMIN],
      owner: BOOTSTRAP_OWNER,
      createdBy: "system:bootstrap",
      now,
    });
    return { id: created.id, key: created.key };
  });
}

/** The API record of a row (never the secret, which is not stored). */
function toApiKey(row: ApiKeyRow): ApiKey {
  return create(ApiKeySchema, {
    id: row.id,
    name: row.name,
    roles: row.roles.map(roleFromDb),
    owner: row.owner,
    expiresAt: row.expires_at === null ? undefined : timestampFromMs(row.expires_at),
    allowedIps: row.allowed_ips,
    onionOnly: row.onion_only,
    createdBy: row.created_by,
    createdAt: timestampFromMs(row.created_at),
    lastUsedAt: row.last_used_at === null ? undefined : timestampFromMs(row.last_used_at),
    revokedAt: row.revoked_at === null ? undefined : timestampFromMs(row.revoked_at),
  });
}

function encodeCursor(createdAt: number, id: string): string {
  return encodePageToken([createdAt, id]);
}

function decodeCursor(token: string): { createdAt: number; id: string } | undefined {
  const parts = decodePageToken(token, /^(\d{1,15}):([0-9a-f]{24})$/);
  return parts && { createdAt: Number(parts[0]), id: parts[1] ?? "" };
}
