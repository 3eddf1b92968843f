import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A freshly minted key: the id, the full key (shown once), and the hash to store. */
export interface MintedKey {
  id: string;
  key: string;
  secretHash: Buffer;
}

/** Makes a new random key, in the format parseKey (shared/credentials.ts) accepts. */
export function mintKey(): MintedKey {
  const id = randomBytes(12).toString("hex");
  const secret = randomBytes(32);
  return { id, key: `tp_${id}_${secret.toString("base64url")}`, secretHash: hashSecret(secret) };
}

/** sha256 of the secret bytes: what api_keys.secret_hash stores. */
export function hashSecret(secret: Buffer): Buffer {
  return createHash("sha256").update(secret).digest();
}

/** Compares two 32-byte hashes in constant time. */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
