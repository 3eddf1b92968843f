import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { base64url, type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../gen/tronpay/v1/options_pb.js";
import { createJwtVerifier, type JwtVerifier, TokenRejected } from "./jwt-verify.js";
import { loadOrCreateSigningKey, type SigningKey } from "./signing-key.js";

const NOW = Date.UTC(2026, 0, 1);
const sec = (ms: number) => Math.floor(ms / 1000);

let own: SigningKey;
let verify: JwtVerifier;
let external: { privateKey: CryptoKey; jwk: JWK; file: string; dir: string };

async function ownToken(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
) {
  // Claims in one object so a test can override or drop (undefined) any of them.
  return new SignJWT({
    roles: ["admin"],
    akid: "a".repeat(24),
    iss: "tronpay-core",
    aud: "tronpay",
    sub: "key:abc",
    jti: "j1",
    nbf: sec(NOW) - 10,
    iat: sec(NOW) - 10,
    exp: sec(NOW) + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: "EdDSA", kid: own.kid, typ: "at+jwt", ...header })
    .sign(own.privateKey);
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "jwt-"));
  own = await loadOrCreateSigningKey(dir);
  const pair = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "ext-1", alg: "ES256" };
  const file = join(dir, "jwks.json");
  writeFileSync(file, JSON.stringify({ keys: [jwk] }));
  external = { privateKey: pair.privateKey, jwk, file, dir };
  verify = createJwtVerifier({
    own: { key: own, issuer: "tronpay-core" },
    audience: "tronpay",
    leewaySec: 30,
    external: { issuer: "https://idp.example", jwks: file },
    clock: () => NOW,
  });
});

async function rejected(token: string, why: RegExp) {
  const err = await verify(token).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TokenRejected);
  expect((err as Error).message).toMatch(why);
}

describe("JWT verification", () => {
  it("accepts core's own token and maps its roles and subject", async () => {
    const token = await verify(await ownToken());
    expect(token.principal).toEqual({ id: "key:abc", roles: [Role.ADMIN] });
    expect(token.jti).toBe("j1");
    expect(token.apiKeyId).toBe("a".repeat(24));
  });

  it("accepts an external token from the JWKS file as jwt:<sub>", async () => {
    const jwt = await new SignJWT({ roles: ["auditor", "nonsense"] })
      .setProtectedHeader({ alg: "ES256", kid: "ext-1", typ: "at+jwt" })
      .setIssuer("https://idp.example")
      .setAudience("tronpay")
      .setSubject("alice")
      .setJti("x1")
      .setNotBefore(sec(NOW))
      .setExpirationTime(sec(NOW) + 60)
      .sign(external.privateKey);
    expect((await verify(jwt)).principal).toEqual({ id: "jwt:alice", roles: [Role.AUDITOR] });
  });

  it("rejects an expired token beyond the leeway but tolerates small skew", async () => {
    await rejected(await ownToken({ exp: sec(NOW) - 31 }), /exp/);
    await expect(verify(await ownToken({ exp: sec(NOW) - 5 }))).resolves.toBeDefined();
  });

  it("rejects a token that is not yet valid", async () => {
    await rejected(await ownToken({ nbf: sec(NOW) + 120 }), /nbf/);
  });

  it("rejects a wrong audience and a wrong issuer", async () => {
    await rejected(await ownToken({ aud: "someone-else" }), /aud/);
    await rejected(await ownToken({ iss: "https://idp.example" }), /iss/);
  });

  it("rejects a token without nbf or jti", async () => {
    await rejected(await ownToken({ nbf: undefined }), /nbf/);
    await rejected(await ownToken({ jti: undefined }), /jti/);
  });

  it("rejects a token whose typ is not at+jwt", async () => {
    await rejected(await ownToken({}, { typ: "JWT" }), /typ/);
  });

  it("rejects alg none", async () => {
    const [, payload] = (await ownToken()).split(".");
    const header = base64url.encode(JSON.stringify({ alg: "none", kid: own.kid, typ: "at+jwt" }));
    await rejected(`${header}.${payload}.`, /alg|Unsupported|not allowed/i);
  });

  it("rejects HS256 signed with the public key as the secret", async () => {
    const secret = new TextEncoder().encode(JSON.stringify(own.publicJwk));
    const forged = await new SignJWT({ roles: ["admin"] })
      .setProtectedHeader({ alg: "HS256", kid: own.kid, typ: "at+jwt" })
      .setIssuer("tronpay-core")
      .setAudience("tronpay")
      .setSubject("key:abc")
      .setJti("j2")
      .setNotBefore(sec(NOW))
      .setExpirationTime(sec(NOW) + 60)
      .sign(secret);
    await rejected(forged, /alg/i);
    // The same forgery naming the external JWKS key is refused too (HS* is never allowed).
    const header = base64url.encode(JSON.stringify({ alg: "HS256", kid: "ext-1", typ: "at+jwt" }));
    await rejected(forged.replace(/^[^.]+/, header), /alg/i);
  });

  it("rejects an unknown kid, and picks up a rotated key once the JWKS file changes", async () => {
    const pair = await generateKeyPair("ES256", { extractable: true });
    const jwt = await new SignJWT({ roles: ["service"] })
      .setProtectedHeader({ alg: "ES256", kid: "ext-2", typ: "at+jwt" })
      .setIssuer("https://idp.example")
      .setAudience("tronpay")
      .setSubject("svc")
      .setJti("x2")
      .setNotBefore(sec(NOW))
      .setExpirationTime(sec(NOW) + 60)
      .sign(pair.privateKey);
    await rejected(jwt, /JWKS|no applicable key|kid/i);
    const rotated = { ...(await exportJWK(pair.publicKey)), kid: "ext-2", alg: "ES256" };
    await new Promise((r) => setTimeout(r, 20)); // a later mtime
    writeFileSync(external.file, JSON.stringify({ keys: [external.jwk, rotated] }));
    expect((await verify(jwt)).principal.id).toBe("jwt:svc");
  });

  it("rejects malformed tokens", async () => {
    await rejected("not-a-jwt", /malformed/);
    await rejected("a.b.c", /malformed/);
    await rejected(`${(await ownToken()).slice(0, -4)}AAAA`, /signature/i);
  });

  it("keeps one signing key across restarts, in a 0600 file", async () => {
    const again = await loadOrCreateSigningKey(external.dir);
    expect(again.kid).toBe(own.kid);
    const { statSync } = await import("node:fs");
    expect(statSync(join(external.dir, "jwt-signing-key.json")).mode & 0o777).toBe(0o600);
  });
});
