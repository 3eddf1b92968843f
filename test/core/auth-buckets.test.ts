import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminService } from "../../src/core/app/routes.js";
import { type CoreServer, serveCore } from "../../src/core/app/server.js";
import { createJwtVerifier } from "../../src/core/auth/jwt-verify.js";
import { createApiKey } from "../../src/core/auth/keys.js";
import { MemoryRevocationList } from "../../src/core/auth/revocation.js";
import { loadOrCreateSigningKey } from "../../src/core/auth/signing-key.js";
import type { TokenSettings } from "../../src/core/auth/tokens.js";
import { clientContextValues, createAuthInterceptor } from "../../src/core/interceptors/auth.js";
import { AdminService } from "../../src/gen/tronpay/v1/admin_pb.js";
import { Role } from "../../src/gen/tronpay/v1/options_pb.js";
import { type ClientOrigin, originHeaders } from "../../src/shared/client-origin.js";
import { errorInterceptor } from "../../src/shared/connect.js";
import { reasonOf } from "../../src/shared/errors.js";
import { createLogger } from "../../src/shared/log.js";
import { connectRedis, createRateLimits, type RateLimits } from "../../src/shared/rate-limit.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

/**
 * Failed-authentication buckets in core, with the counters in the real Redis: a guesser only
 * hurts itself. Calls state their origin the way the edge does (x-tronpay-client with its MAC),
 * so "onion" callers and callers at different addresses can be made from one test process.
 */

const log = createLogger({ name: "test", level: "silent" });
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const secret = randomBytes(32).toString("base64url");
const PER_BUCKET = 20;
const GLOBAL = 60;
const ONION: ClientOrigin = { ip: undefined, viaOnion: true };
let db: TestDatabase;
let redis: ReturnType<typeof connectRedis>;
let settings: TokenSettings;
let verify: ReturnType<typeof createJwtVerifier>;
const revocations = new MemoryRevocationList(Date.now);
const servers: CoreServer[] = [];
let n = 0;
const ip = () => `10.9.${Math.floor(++n / 250)}.${n % 250}`;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = connectRedis(REDIS_URL, log);
  await new Promise((r) => redis.once("ready", r));
  const key = await loadOrCreateSigningKey(mkdtempSync(join(tmpdir(), "buckets-")));
  settings = {
    key,
    issuer: "tronpay-core",
    audience: "tronpay",
    defaultTtlMs: 60_000,
    maxTtlMs: 120_000,
    refreshTtlMs: 600_000,
  };
  verify = createJwtVerifier({
    own: { key, issuer: "tronpay-core" },
    audience: "tronpay",
    leewaySec: 5,
    clock: Date.now,
  });
}, 30_000);

afterAll(async () => {
  for (const s of servers) await s.close();
  redis?.disconnect();
  await db?.drop();
});

// A bucket is refused once it holds PER_BUCKET failures: the 21st try of a guesser.

/** A core with AdminService and its own counters (a fresh Redis prefix). */
async function start(global = GLOBAL): Promise<string> {
  const limits: RateLimits = createRateLimits({
    readPerMin: 10_000,
    writePerMin: 10_000,
    authFailuresPerMin: PER_BUCKET,
    authFailuresGlobalPerMin: global,
    redis,
    keyPrefix: `test:${randomUUID()}:`,
  });
  const server = await serveCore({
    host: "127.0.0.1",
    port: 0,
    routes: (router) =>
      router.service(
        AdminService,
        adminService({ pool: db.pool, clock: Date.now, tokens: { settings, revocations } }),
      ),
    interceptors: [
      errorInterceptor,
      createAuthInterceptor({
        pool: db.pool,
        log,
        clock: Date.now,
        jwt: { verify, revocations },
        limits,
      }),
    ],
    contextValues: clientContextValues({ forwardSecret: secret }),
  });
  servers.push(server);
  return server.url;
}

/** A client of `url` that presents `credential` and states `origin` as the edge would. */
function client(
  url: string,
  origin: ClientOrigin,
  credential?: string,
): Client<typeof AdminService> {
  const transport = createConnectTransport({
    baseUrl: url,
    httpVersion: "2",
    interceptors: [
      (next) => (req) => {
        if (credential !== undefined) req.header.set("authorization", `Bearer ${credential}`);
        const requestId = randomUUID();
        req.header.set("x-request-id", requestId);
        const call = { procedure: new URL(req.url).pathname, requestId };
        for (const [name, value] of originHeaders(secret, origin, call))
          req.header.set(name, value);
        return next(req);
      },
    ],
  });
  return createClient(AdminService, transport);
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (err: unknown) => reasonOf(err),
  );

async function newKey(onionOnly = false) {
  return db.pool.transaction((tx) =>
    createApiKey(tx, {
      name: "bucket test",
      roles: [Role.AUDITOR],
      owner: "test",
      createdBy: "test",
      now: Date.now(),
      onionOnly,
    }),
  );
}

async function onionJwt(url: string): Promise<{ access: string; refresh: string }> {
  const key = await newKey(true);
  const { token } = await client(url, ONION, key.key).issueToken({ idempotencyKey: randomUUID() });
  return { access: token?.accessToken ?? "", refresh: token?.refreshToken ?? "" };
}

/** A JWT-shaped credential that is not a token of ours. */
function garbageJwt(): string {
  const part = () => randomBytes(24).toString("base64url");
  return `${part()}.${part()}.${part()}`;
}

describe("failed-authentication buckets", () => {
  it("does not lock a valid onion JWT user out after 21 garbage onion tokens", async () => {
    const url = await start();
    const user = await onionJwt(url);
    const answers: (string | undefined)[] = [];
    for (let i = 0; i < PER_BUCKET + 1; i++) {
      answers.push(await outcome(client(url, ONION, garbageJwt()).getPauseState({})));
    }
    expect(answers).toEqual(Array(PER_BUCKET + 1).fill("auth.unauthenticated"));
    expect(await outcome(client(url, ONION, user.access).getPauseState({}))).toBe("ok");
    // A user who arrives now, not seen before, is not locked out either.
    const newcomer = await onionJwt(url);
    expect(await outcome(client(url, ONION, newcomer.access).getPauseState({}))).toBe("ok");
  });

  it("does not lock a key out on the onion when someone guesses secrets for its id", async () => {
    const url = await start();
    const target = await newKey(true);
    const guess = () => `${target.key.slice(0, 28)}${randomBytes(32).toString("base64url")}`;
    for (let i = 0; i < PER_BUCKET + 1; i++) {
      expect(await outcome(client(url, ONION, guess()).getPauseState({}))).toBe(
        "auth.unauthenticated",
      );
    }
    expect(await outcome(client(url, ONION, target.key).getPauseState({}))).toBe("ok");
  });

  it("locks out the guesser itself: one credential repeated, or one address", async () => {
    const url = await start();
    const same = garbageJwt();
    for (let i = 0; i < PER_BUCKET; i++) await outcome(client(url, ONION, same).getPauseState({}));
    expect(await outcome(client(url, ONION, same).getPauseState({}))).toBe("auth.rate_limited");
    const guesser = ip();
    for (let i = 0; i < PER_BUCKET; i++) {
      await outcome(client(url, { ip: guesser, viaOnion: false }, garbageJwt()).getPauseState({}));
    }
    const key = await newKey();
    expect(
      await outcome(client(url, { ip: guesser, viaOnion: false }, key.key).getPauseState({})),
    ).toBe("auth.rate_limited");
    expect(
      await outcome(client(url, { ip: ip(), viaOnion: false }, key.key).getPauseState({})),
    ).toBe("ok");
  });

  it("counts failed RefreshToken attempts, per address and per refresh token on the onion", async () => {
    const url = await start();
    const from = { ip: ip(), viaOnion: false };
    const bad = () =>
      `tprt_${randomBytes(16).toString("hex")}_${randomBytes(32).toString("base64url")}`;
    for (let i = 0; i < PER_BUCKET; i++) {
      const refused = client(url, from).refreshToken({
        idempotencyKey: randomUUID(),
        refreshToken: bad(),
      });
      expect(await outcome(refused)).toBe("auth.unauthenticated");
    }
    const locked = client(url, from).refreshToken({
      idempotencyKey: randomUUID(),
      refreshToken: bad(),
    });
    expect(await outcome(locked)).toBe("auth.rate_limited");
    const key = await newKey();
    expect(await outcome(client(url, from, key.key).getPauseState({}))).toBe("auth.rate_limited");
    // On the onion: the same stolen-and-spent refresh token again and again locks only itself.
    const user = await onionJwt(url);
    const spent = bad();
    for (let i = 0; i < PER_BUCKET; i++) {
      await outcome(
        client(url, ONION).refreshToken({ idempotencyKey: randomUUID(), refreshToken: spent }),
      );
    }
    const again = client(url, ONION).refreshToken({
      idempotencyKey: randomUUID(),
      refreshToken: spent,
    });
    expect(await outcome(again)).toBe("auth.rate_limited");
    const renewed = client(url, ONION).refreshToken({
      idempotencyKey: randomUUID(),
      refreshToken: user.refresh,
    });
    expect(await outcome(renewed)).toBe("ok");
  });

  it("sheds unknown credentials first when failures flood in everywhere, keeping known users", async () => {
    const url = await start(10);
    const known = await onionJwt(url);
    expect(await outcome(client(url, ONION, known.access).getPauseState({}))).toBe("ok");
    const unseen = await newKey(true);
    for (let i = 0; i < 11; i++) await outcome(client(url, ONION, garbageJwt()).getPauseState({}));
    // The breaker is open: new credentials are refused before any verification work...
    expect(await outcome(client(url, ONION, garbageJwt()).getPauseState({}))).toBe(
      "auth.rate_limited",
    );
    expect(await outcome(client(url, ONION, unseen.key).getPauseState({}))).toBe(
      "auth.rate_limited",
    );
    // ...while a credential that authenticated recently still works.
    expect(await outcome(client(url, ONION, known.access).getPauseState({}))).toBe("ok");
  });
});
