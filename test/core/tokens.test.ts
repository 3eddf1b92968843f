import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { decodeJwt } from "jose";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { adminService } from "../../src/core/app/routes.js";
import { type CoreServer, serveCore } from "../../src/core/app/server.js";
import { createJwtVerifier } from "../../src/core/auth/jwt-verify.js";
import { createApiKey } from "../../src/core/auth/keys.js";
import { MemoryRevocationList } from "../../src/core/auth/revocation.js";
import { loadOrCreateSigningKey } from "../../src/core/auth/signing-key.js";
import type { TokenSettings } from "../../src/core/auth/tokens.js";
import { createAuthInterceptor } from "../../src/core/interceptors/auth.js";
import { AdminService } from "../../src/gen/tronpay/v1/admin_pb.js";
import { Role } from "../../src/gen/tronpay/v1/options_pb.js";
import { errorInterceptor } from "../../src/shared/connect.js";
import { reasonOf } from "../../src/shared/errors.js";
import { createLogger } from "../../src/shared/log.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

const log = createLogger({ name: "test", level: "silent" });
let db: TestDatabase;
let server: CoreServer;
let adminKey: { id: string; key: string };
let auditorKey: { id: string; key: string };
let n = 0;
const idem = () => `k-${n++}`;

beforeAll(async () => {
  db = await createTestDatabase();
  const key = await loadOrCreateSigningKey(mkdtempSync(join(tmpdir(), "tokens-")));
  const settings: TokenSettings = {
    key,
    issuer: "tronpay-core",
    audience: "tronpay",
    defaultTtlMs: 60_000,
    maxTtlMs: 120_000,
    refreshTtlMs: 600_000,
  };
  const revocations = new MemoryRevocationList(Date.now);
  const verify = createJwtVerifier({
    own: { key, issuer: "tronpay-core" },
    audience: "tronpay",
    leewaySec: 5,
    clock: Date.now,
  });
  const make = (roles: Role[], name: string) =>
    db.pool.transaction((tx) =>
      createApiKey(tx, { name, roles, owner: "test", createdBy: "test", now: Date.now() }),
    );
  adminKey = await make([Role.ADMIN], "admin");
  auditorKey = await make([Role.AUDITOR], "auditor");
  server = await serveCore({
    host: "127.0.0.1",
    port: 0,
    routes: (router) =>
      router.service(
        AdminService,
        adminService({ pool: db.pool, clock: Date.now, tokens: { settings, revocations } }),
      ),
    interceptors: [
      errorInterceptor,
      createAuthInterceptor({ pool: db.pool, log, clock: Date.now, jwt: { verify, revocations } }),
    ],
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

function client(bearer?: string) {
  const transport = createConnectTransport({
    baseUrl: server.url,
    httpVersion: "2",
    interceptors: [
      (next) => (req) => {
        if (bearer) req.header.set("authorization", `Bearer ${bearer}`);
        return next(req);
      },
    ],
  });
  return createClient(AdminService, transport);
}

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  return err as ConnectError;
}

describe("tokens", () => {
  it("exchanges an API key for a JWT that authenticates with the key's roles", async () => {
    const { token } = await client(auditorKey.key).issueToken({ idempotencyKey: idem() });
    expect(token?.accessToken.split(".")).toHaveLength(3);
    expect(token?.refreshToken).toMatch(/^tprt_/);
    const jwt = client(token?.accessToken);
    await jwt.getPauseState({});
    // Auditor cannot pause, with a token as with the key.
    const err = await failure(jwt.pausePayouts({ idempotencyKey: idem(), reason: "x" }));
    expect(err.code).toBe(Code.PermissionDenied);
  });

  it("refuses roles the key does not have, and a token to issue a token", async () => {
    const err = await failure(
      client(auditorKey.key).issueToken({ idempotencyKey: idem(), roles: [Role.ADMIN] }),
    );
    expect(err.code).toBe(Code.PermissionDenied);
    const { token } = await client(adminKey.key).issueToken({ idempotencyKey: idem() });
    const again = await failure(client(token?.accessToken).issueToken({ idempotencyKey: idem() }));
    expect(again.code).toBe(Code.PermissionDenied);
  });

  it("replays an issue answer without the secrets", async () => {
    const key = idem();
    const first = await client(adminKey.key).issueToken({ idempotencyKey: key });
    const second = await client(adminKey.key).issueToken({ idempotencyKey: key });
    expect(second.token?.jti).toBe(first.token?.jti);
    expect(second.token?.accessToken).toBe("");
    expect(second.token?.refreshToken).toBe("");
  });

  it("refreshes once without credentials; the refresh token is then spent", async () => {
    const { token } = await client(adminKey.key).issueToken({ idempotencyKey: idem() });
    const refreshed = await client().refreshToken({
      idempotencyKey: idem(),
      refreshToken: token?.refreshToken ?? "",
    });
    expect(refreshed.token?.jti).not.toBe(token?.jti);
    await client(refreshed.token?.accessToken).getPauseState({});
    const err = await failure(
      client().refreshToken({ idempotencyKey: idem(), refreshToken: token?.refreshToken ?? "" }),
    );
    expect(err.code).toBe(Code.Unauthenticated);
  });

  it("revokes a token by jti; it is refused on the next call", async () => {
    const { token } = await client(auditorKey.key).issueToken({ idempotencyKey: idem() });
    const jwt = client(token?.accessToken);
    await jwt.getPauseState({});
    await jwt.revokeToken({ idempotencyKey: idem(), jti: token?.jti ?? "", reason: "lost" });
    const err = await failure(jwt.getPauseState({}));
    expect(err.code).toBe(Code.Unauthenticated);
    const refresh = await failure(
      client().refreshToken({ idempotencyKey: idem(), refreshToken: token?.refreshToken ?? "" }),
    );
    expect(reasonOf(refresh)).toBe("auth.unauthenticated");
  });

  it("does not let a non-admin revoke someone else's token", async () => {
    const { token } = await client(adminKey.key).issueToken({ idempotencyKey: idem() });
    const err = await failure(
      client(auditorKey.key).revokeToken({ idempotencyKey: idem(), jti: token?.jti ?? "" }),
    );
    expect(err.code).toBe(Code.NotFound);
    await client(token?.accessToken).getPauseState({});
  });

  it("revoking the API key revokes the tokens issued from it", async () => {
    const key = await db.pool.transaction((tx) =>
      createApiKey(tx, {
        name: "short",
        roles: [Role.AUDITOR],
        owner: "test",
        createdBy: "test",
        now: Date.now(),
      }),
    );
    const { token } = await client(key.key).issueToken({ idempotencyKey: idem() });
    await client(token?.accessToken).getPauseState({});
    await client(adminKey.key).revokeApiKey({ idempotencyKey: idem(), id: key.id, reason: "gone" });
    expect((await failure(client(token?.accessToken).getPauseState({}))).code).toBe(
      Code.Unauthenticated,
    );
  });
});

describe("tokens and the key they came from", () => {
  async function expiringKey(inMs: number) {
    const expiresAt = Date.now() + inMs;
    const key = await db.pool.transaction((tx) =>
      createApiKey(tx, {
        name: "expiring",
        roles: [Role.AUDITOR],
        owner: "test",
        createdBy: "test",
        now: Date.now(),
        expiresAt,
      }),
    );
    return { ...key, expiresAt };
  }

  it("clamps a token from a key expiring in 30 s to the key's expiry, refresh token too", async () => {
    const key = await expiringKey(30_000);
    const { token } = await client(key.key).issueToken({ idempotencyKey: idem() });
    const exp = timestampMs(token?.expiresAt ?? timestampFromMs(0));
    expect(exp).toBeLessThanOrEqual(key.expiresAt);
    expect(exp).toBeGreaterThan(key.expiresAt - 2_000);
    expect(timestampMs(token?.refreshExpiresAt ?? timestampFromMs(0))).toBeLessThanOrEqual(
      key.expiresAt,
    );
    // The JWT's own exp claim says the same.
    const claims = decodeJwt(token?.accessToken ?? "");
    expect((claims.exp ?? 0) * 1000).toBeLessThanOrEqual(key.expiresAt);
    // A refreshed token is clamped as well.
    const refreshed = await client().refreshToken({
      idempotencyKey: idem(),
      refreshToken: token?.refreshToken ?? "",
    });
    expect(timestampMs(refreshed.token?.expiresAt ?? timestampFromMs(0))).toBeLessThanOrEqual(
      key.expiresAt,
    );
  });

  it("tells WhoAmI callers (the edge) when an API key expires, so its answer is not kept longer", async () => {
    const key = await expiringKey(30_000);
    const who = await client(key.key).whoAmI({});
    expect(timestampMs(who.expiresAt ?? timestampFromMs(0))).toBe(key.expiresAt);
    const forever = await client(auditorKey.key).whoAmI({});
    expect(forever.expiresAt).toBeUndefined();
  });

  it("refuses a token once its key has expired, though the JWT leeway would still pass it", async () => {
    const key = await expiringKey(2_000);
    const { token } = await client(key.key).issueToken({ idempotencyKey: idem() });
    await client(token?.accessToken).getPauseState({});
    await new Promise((r) => setTimeout(r, Math.max(0, key.expiresAt - Date.now()) + 100));
    const err = await failure(client(token?.accessToken).getPauseState({}));
    expect(reasonOf(err)).toBe("auth.unauthenticated");
  });

  it("revokes the whole family when a rotated refresh token is presented again", async () => {
    const { token: first } = await client(auditorKey.key).issueToken({ idempotencyKey: idem() });
    const { token: second } = await client().refreshToken({
      idempotencyKey: idem(),
      refreshToken: first?.refreshToken ?? "",
    });
    const { token: third } = await client().refreshToken({
      idempotencyKey: idem(),
      refreshToken: second?.refreshToken ?? "",
    });
    await client(third?.accessToken).getPauseState({});
    // Someone replays the first, long rotated, refresh token.
    const reuse = await failure(
      client().refreshToken({ idempotencyKey: idem(), refreshToken: first?.refreshToken ?? "" }),
    );
    expect(reasonOf(reuse)).toBe("auth.unauthenticated");
    // Every token of the family is now revoked: the live access token and its refresh token.
    expect(reasonOf(await failure(client(third?.accessToken).getPauseState({})))).toBe(
      "auth.unauthenticated",
    );
    const refresh = await failure(
      client().refreshToken({ idempotencyKey: idem(), refreshToken: third?.refreshToken ?? "" }),
    );
    expect(reasonOf(refresh)).toBe("auth.unauthenticated");
    const audited = await db.pool.anyFirst(sql.type(z.object({ action: z.string() }))`
      SELECT action FROM audit_log WHERE subject = ${`token_family:${first?.jti}`}`);
    expect(audited).toEqual(["token.family_revoke"]);
    // Another family of the same key is untouched.
    const { token: other } = await client(auditorKey.key).issueToken({ idempotencyKey: idem() });
    await client(other?.accessToken).getPauseState({});
  });
});
