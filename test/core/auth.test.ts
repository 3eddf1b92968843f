import * as crypto from "node:crypto";
import { createContextValues, type Interceptor, type UnaryRequest } from "@connectrpc/connect";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import {
  bootstrapAdminKey,
  createApiKey,
  type NewApiKey,
  revokeApiKey,
  UNAUTHENTICATED_MESSAGE,
  verifyApiKey,
} from "../../src/core/auth/keys.js";
import { createAuthInterceptor } from "../../src/core/interceptors/auth.js";
import { Role } from "../../src/gen/tronpay/v1/options_pb.js";
import { AppError, reasonOf } from "../../src/shared/errors.js";
import { createLogger } from "../../src/shared/log.js";
import { createAuthFailures } from "../../src/shared/rate-limit.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

// Wrap timingSafeEqual so tests can see that verification goes through it.
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function newKey(overrides: Partial<NewApiKey> = {}) {
  return db.pool.transaction((tx) =>
    createApiKey(tx, {
      name: "test",
      roles: [Role.OPERATOR],
      owner: "test",
      createdBy: "test",
      now: NOW,
      ...overrides,
    }),
  );
}

/** The AppError a rejected verification throws. */
async function rejection(presented: string, ip?: string, now = NOW): Promise<AppError> {
  const err = await verifyApiKey(db.pool, presented, { ip, now }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

function causeOf(err: AppError): string {
  return err.cause instanceof Error ? err.cause.message : "";
}

describe("bootstrapAdminKey", () => {
  it("creates exactly one admin key when there is none, even when called concurrently", async () => {
    const results = await Promise.all(
      [1, 2, 3].map(() => bootstrapAdminKey(db.pool, "first admin", NOW)),
    );
    const created = results.filter((r) => r !== undefined);
    expect(created).toHaveLength(1);
    const principal = await verifyApiKey(db.pool, created[0]!.key, { now: NOW });
    expect(principal.roles).toEqual([Role.ADMIN]);
    expect(await bootstrapAdminKey(db.pool, "again", NOW)).toBeUndefined();
  });
});

describe("verifyApiKey", () => {
  it("authenticates a created key as key:<id> with the key's roles", async () => {
    const created = await newKey({ roles: [Role.APPROVER, Role.OPERATOR] });
    expect(created.key).toMatch(new RegExp(`^tp_${created.id}_[A-Za-z0-9_-]{43}$`));
    const principal = await verifyApiKey(db.pool, created.key, { now: NOW });
    expect(principal).toEqual({ id: `key:${created.id}`, roles: [Role.OPERATOR, Role.APPROVER] });
  });

  it("stores only the sha256 of the secret, never the key", async () => {
    const created = await newKey();
    const secret = Buffer.from(created.key.split("_").slice(2).join("_"), "base64url");
    const row = await db.pool.one(sql.type(
      z.object({ secret_hash: z.instanceof(Buffer), text: z.string() }),
    )`
      SELECT secret_hash, row_to_json(api_keys)::text AS text FROM api_keys WHERE id = ${created.id}`);
    expect(row.secret_hash.equals(crypto.createHash("sha256").update(secret).digest())).toBe(true);
    expect(row.text).not.toContain(created.key.slice(-43));
  });

  it("rejects a revoked key", async () => {
    const created = await newKey();
    await db.pool.transaction((tx) =>
      revokeApiKey(tx, { id: created.id, by: "test", reason: "", now: NOW }),
    );
    const err = await rejection(created.key);
    expect(err.reason).toBe("auth.unauthenticated");
    expect(causeOf(err)).toMatch(/revoked/);
  });

  it("rejects an expired key from its expiry on, and accepts it just before", async () => {
    const created = await newKey({ expiresAt: NOW + 60_000 });
    await expect(verifyApiKey(db.pool, created.key, { now: NOW + 59_999 })).resolves.toBeDefined();
    const err = await rejection(created.key, undefined, NOW + 60_000);
    expect(err.reason).toBe("auth.unauthenticated");
    expect(causeOf(err)).toMatch(/expired/);
  });

  it("rejects malformed keys", async () => {
    const { key } = await newKey();
    // 43 base64url characters carry 258 bits: the lowest 2 bits of the last one are unused,
    // so flipping one spells the same 32 bytes differently.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(key.at(-1) as string);
    const nonCanonical = key.slice(0, -1) + alphabet[last ^ 1];
    const secretOf = (k: string) => Buffer.from(k.slice(-43), "base64url");
    expect(secretOf(nonCanonical).equals(secretOf(key))).toBe(true);
    const malformed = [
      "",
      "tp_",
      key.replace(/^tp_/, "tq_"),
      key.toUpperCase(),
      `${key}A`,
      key.slice(0, -1),
      ` ${key}`,
      key.replace(/_/, "-"),
      Buffer.from(key).toString("base64"),
    ];
    for (const presented of malformed) {
      const err = await rejection(presented);
      expect(err.reason).toBe("auth.unauthenticated");
    }
    const err = await rejection(nonCanonical);
    expect(err.reason).toBe("auth.unauthenticated");
  });

  it("rejects a key whose secret is wrong", async () => {
    const created = await newKey();
    const other = `tp_${created.id}_${crypto.randomBytes(32).toString("base64url")}`;
    const err = await rejection(other);
    expect(err.reason).toBe("auth.unauthenticated");
    expect(causeOf(err)).toMatch(/wrong secret/);
  });

  it("rejects a guessed key with an unknown id", async () => {
    const guessed = `tp_${crypto.randomBytes(12).toString("hex")}_${crypto.randomBytes(32).toString("base64url")}`;
    const err = await rejection(guessed);
    expect(err.reason).toBe("auth.unauthenticated");
    expect(causeOf(err)).toMatch(/unknown key id/);
  });

  it("gives every failure the same client message while the causes differ", async () => {
    const revoked = await newKey();
    await db.pool.transaction((tx) =>
      revokeApiKey(tx, { id: revoked.id, by: "test", reason: "", now: NOW }),
    );
    const wrong = `tp_${revoked.id}_${crypto.randomBytes(32).toString("base64url")}`;
    const errors = await Promise.all([rejection("nope"), rejection(wrong), rejection(revoked.key)]);
    expect(new Set(errors.map((e) => e.message))).toEqual(new Set([UNAUTHENTICATED_MESSAGE]));
    expect(new Set(errors.map(causeOf)).size).toBe(3);
  });

  it("accepts a key only from its allowed addresses and ranges", async () => {
    const created = await newKey({ allowedIps: ["10.1.0.0/16", "2001:db8::1"] });
    for (const ip of ["10.1.2.3", "::ffff:10.1.200.1", "2001:db8::1"]) {
      await expect(verifyApiKey(db.pool, created.key, { ip, now: NOW })).resolves.toBeDefined();
    }
    for (const ip of ["10.2.0.1", "2001:db8::2", undefined]) {
      const err = await rejection(created.key, ip);
      expect(err.reason).toBe("auth.unauthenticated");
      expect(causeOf(err)).toMatch(/not allowed/);
    }
  });

  it("refuses an onion-only key on a request that did not come through the onion service", async () => {
    const created = await newKey({ onionOnly: true });
    expect(causeOf(await rejection(created.key))).toMatch(/onion-only/);
    await expect(
      verifyApiKey(db.pool, created.key, { now: NOW, viaOnion: true }),
    ).resolves.toBeDefined();
  });

  it("refuses to create a key with a bad allowed-IP entry, no roles, or a past expiry", async () => {
    await expect(newKey({ allowedIps: ["10.0.0.0/33"] })).rejects.toMatchObject({
      reason: "request.invalid",
    });
    await expect(newKey({ allowedIps: ["example.com"] })).rejects.toMatchObject({
      reason: "request.invalid",
    });
    await expect(newKey({ roles: [] })).rejects.toMatchObject({ reason: "request.invalid" });
    await expect(newKey({ roles: [Role.UNSPECIFIED] })).rejects.toMatchObject({
      reason: "request.invalid",
    });
    await expect(newKey({ expiresAt: NOW })).rejects.toMatchObject({ reason: "request.invalid" });
  });

  it("compares secret hashes with crypto.timingSafeEqual, also for unknown ids", async () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    const created = await newKey();
    const stored = await db.pool.oneFirst(sql.type(z.object({ h: z.instanceof(Buffer) }))`
      SELECT secret_hash AS h FROM api_keys WHERE id = ${created.id}`);
    spy.mockClear();
    await rejection(`tp_${created.id}_${crypto.randomBytes(32).toString("base64url")}`);
    expect(spy).toHaveBeenCalledTimes(1);
    const [a, b] = spy.mock.calls[0] as [Buffer, Buffer];
    expect(Buffer.from(b).equals(stored)).toBe(true);
    expect(a).toHaveLength(32);
    spy.mockClear();
    await rejection(
      `tp_${crypto.randomBytes(12).toString("hex")}_${crypto.randomBytes(32).toString("base64url")}`,
    );
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it("records the last use, at most once a minute", async () => {
    const created = await newKey();
    const lastUsed = () =>
      db.pool.oneFirst(sql.type(z.object({ t: z.number().nullable() }))`
        SELECT last_used_at AS t FROM api_keys WHERE id = ${created.id}`);
    expect(await lastUsed()).toBeNull();
    await verifyApiKey(db.pool, created.key, { now: NOW });
    await verifyApiKey(db.pool, created.key, { now: NOW + 30_000 });
    expect(await lastUsed()).toBe(NOW);
    await verifyApiKey(db.pool, created.key, { now: NOW + 60_000 });
    expect(await lastUsed()).toBe(NOW + 60_000);
  });
});

describe("failed-authentication counting in memory", () => {
  it("locks a bucket out after the limit until its window ends, leaving others alone", async () => {
    const failures = createAuthFailures({ authFailuresPerMin: 3, windowSec: 1, keyPrefix: "" });
    for (let i = 0; i < 3; i++) {
      await failures.checkAuthFailures("a");
      await failures.failedAuth("a");
    }
    expect(reasonOf(await failures.checkAuthFailures("a").catch((e: unknown) => e))).toBe(
      "auth.rate_limited",
    );
    await failures.checkAuthFailures("b");
    await new Promise((r) => setTimeout(r, 1_100));
    await failures.checkAuthFailures("a");
  });

  it("opens the breaker over all buckets for unknown credentials only", async () => {
    const failures = createAuthFailures({
      authFailuresPerMin: 3,
      authFailuresGlobalPerMin: 5,
      windowSec: 60,
      keyPrefix: "",
    });
    for (const bucket of ["a", "b", "c", "d", "e"]) await failures.failedAuth(bucket);
    const shed = await failures.checkAuthFailures("f").catch((e: unknown) => e);
    expect(reasonOf(shed)).toBe("auth.rate_limited");
    await failures.checkAuthFailures("f", true);
  });
});

describe("the auth interceptor", () => {
  const log = createLogger({ name: "test", level: "silent" });

  /** Just the parts of a request the interceptor reads; a real server is in admin.test.ts. */
  function fakeRequest(typeName: string, header = new Headers()): UnaryRequest {
    return {
      service: { typeName },
      method: { name: "Check" },
      header,
      contextValues: createContextValues(),
    } as unknown as UnaryRequest;
  }

  it("lets health and reflection through without credentials", async () => {
    const interceptor: Interceptor = createAuthInterceptor({
      pool: db.pool,
      log,
      clock: () => NOW,
    });
    for (const service of [
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]) {
      const next = vi.fn(async () => ({ ok: true }) as never);
      await interceptor(next)(fakeRequest(service));
      expect(next).toHaveBeenCalledTimes(1);
    }
  });

  it("logs the specific cause of a failed authentication, but not the key", async () => {
    const lines: string[] = [];
    const capture = createLogger({
      name: "test",
      level: "info",
      destination: { write: (l: string) => lines.push(l) },
    });
    const interceptor = createAuthInterceptor({ pool: db.pool, log: capture, clock: () => NOW });
    const created = await newKey();
    const wrong = `tp_${created.id}_${crypto.randomBytes(32).toString("base64url")}`;
    const req = fakeRequest(
      "tronpay.v1.AdminService",
      new Headers({ authorization: `Bearer ${wrong}` }),
    );
    const err = await interceptor(vi.fn())(req).catch((e: unknown) => e);
    expect(reasonOf(err)).toBe("auth.unauthenticated");
    expect(lines.join("")).toContain(`wrong secret for key ${created.id}`);
    expect(lines.join("")).not.toContain(wrong.slice(-43));
  });

  it("refuses a non-Bearer authorization header before looking anything up", async () => {
    const interceptor = createAuthInterceptor({ pool: db.pool, log, clock: () => NOW });
    const next = vi.fn();
    const req = fakeRequest(
      "tronpay.v1.AdminService",
      new Headers({ authorization: "Basic dXNlcjpwYXNz" }),
    );
    const err = await interceptor(next)(req).catch((e: unknown) => e);
    expect(reasonOf(err)).toBe("auth.unauthenticated");
    expect(next).not.toHaveBeenCalled();
  });
});
