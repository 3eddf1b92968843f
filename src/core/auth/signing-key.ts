import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey as JoseKey,
  type JWK,
} from "jose";

/** Core's token-signing key: an Ed25519 pair, identified by its JWK thumbprint (RFC 7638). */
export interface SigningKey {
  kid: string;
  privateKey: JoseKey;
  publicKey: JoseKey;
  /** The public half as a JWK (with kid, alg, use), for a JWKS document. */
  publicJwk: JWK;
}

const FILE = "jwt-signing-key.json";

/**
 * Loads core's signing key from `dataDir`, generating it on first start (file mode 0600,
 * created exclusively so that two processes starting together end up with one key).
 */
export async function loadOrCreateSigningKey(dataDir: string): Promise<SigningKey> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, FILE);
  const existing = readJwk(path);
  if (existing) return fromPrivateJwk(existing);
  const pair = await generateKeyPair("Ed25519", { extractable: true });
  const jwk = await exportJWK(pair.privateKey);
  // `wx` fails if another process won the race; then its key is the one.
  try {
    writeFileSync(path, JSON.stringify(jwk), { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const theirs = readJwk(path);
    if (!theirs) throw new Error(`${path} was created by another process but is empty`);
    return fromPrivateJwk(theirs);
  }
  return fromPrivateJwk(jwk);
}

function readJwk(path: string): JWK | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as JWK;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

async function fromPrivateJwk(jwk: JWK): Promise<SigningKey> {
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.d !== "string") {
    throw new Error("the JWT signing key file does not hold an Ed25519 private key");
  }
  const { d: _d, ...pub } = jwk;
  const kid = await calculateJwkThumbprint(pub);
  const publicJwk: JWK = { ...pub, kid, alg: "EdDSA", use: "sig" };
  return {
    kid,
    privateKey: (await importJWK({ ...jwk, alg: "EdDSA" }, "EdDSA")) as JoseKey,
    publicKey: (await importJWK(publicJwk, "EdDSA")) as JoseKey,
    publicJwk,
  };
}
