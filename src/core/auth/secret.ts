import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * The API key format: "tp_<id>_<secret>", where id is 12 random bytes in lowercase hex (public,
 * used to find the row) and secret is 32 random bytes in unpadded base64url (43 characters).
 * The id never contains "_", so the first "_" after the id ends it even though base64url
 * secrets may contain "_".
 */
const KEY_FORMAT = /^tp_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$/;

/** A freshly minted key: the id, the full key (shown once), and the hash to store. */
export interface MintedKey {
  id: string;
  key: string;
  secretHash: Buffer;
}

/** Makes a new random key. */
export function mintKey(): MintedKey {
  const id = randomBytes(12).toString("hex");
  const secret = randomBytes(32);
  return { id, key: `tp_${id}_${secret.toString("base64url")}`, secretHash: hashSecret(secret) };
}

/** A presented key split into its parts; undefined if it is not exactly our format. */
export interface ParsedKey {
  id: string;
  secret: Buffer;
}

/** Parses a presented key strictly (format, length, canonical base64url); never throws. */
export function parseKey(presented: string): ParsedKey | undefined {
  const m = KEY_FORMAT.exec(presented);
  if (!m) return undefined;
  const secret = Buffer.from(m[2] as string, "base64url");
  // 43 characters carry 258 bits; only the canonical spelling of the 32 bytes is accepted, so
  // one key has exactly one string.
  if (secret.length !== 32 || secret.toString("base64url") !== m[2]) return undefined;
  return { id: m[1] as string, secret };
}

/** sha256 of the secret bytes: what api_keys.secret_hash stores. */
export function hashSecret(secret: Buffer): Buffer {
  return createHash("sha256").update(secret).digest();
}

/** Compares two 32-byte hashes in constant time. */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
