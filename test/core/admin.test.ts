import { type DescMethod, fromBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { isPaused } from "../../src/core/admin/pause.js";
import { adminService } from "../../src/core/app/routes.js";
import { type CoreServer, serveCore } from "../../src/core/app/server.js";
import { createApiKey } from "../../src/core/auth/keys.js";
import { roleProtoName } from "../../src/core/auth/roles.js";
import { clientContextValues, createAuthInterceptor } from "../../src/core/interceptors/auth.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { AdminService, CreateApiKeyResponseSchema } from "../../src/gen/tronpay/v1/admin_pb.js";
import { Role } from "../../src/gen/tronpay/v1/options_pb.js";
import { rolesOf } from "../../src/shared/api.js";
import { errorInterceptor } from "../../src/shared/connect.js";
import { reasonOf } from "../../src/shared/errors.js";
import { createLogger } from "../../src/shared/log.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

const ROLES = [Role.ADMIN, Role.OPERATOR, Role.APPROVER, Role.AUDITOR, Role.SERVICE] as const;
const log = createLogger({ name: "test", level: "silent" });

let db: TestDatabase;
let server: CoreServer;
const keyOf = new Map<Role, { id: string; key: string }>();
const handlers = () => adminService({ pool: db.pool, clock: Date.now });

/** A server; `seesPeer` lets it tell client addresses (as core's main does). */
async function start(
  lockout?: { maxFailures: number; windowMs: number },
  seesPeer = false,
): Promise<CoreServer> {
  return serveCore({
    host: "127.0.0.1",
    port: 0,
    routes: (router) => router.service(AdminService, handlers()),
    interceptors: [
      errorInterceptor,
      createAuthInterceptor({ pool: db.pool, log, clock: Date.now, lockout }),
    ],
    contextValues: seesPeer ? clientContextValues({ forwardSecret: "" }) : undefined,
  });
}

function client(
  key?: string,
  url = server.url,
  header = "authorization",
): Client<typeof AdminService> {
  const value = header === "authorization" && key ? `Bearer ${key}` : key;
  const transport = createConnectTransport({
    baseUrl: url,
    httpVersion: "2",
    interceptors: [
      (next) => (req) => {
        if (value !== undefined) req.header.set(header, value);
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

function admin() {
  return client(keyOf.get(Role.ADMIN)!.key);
}

let idem = 0;
const nextKey = () => `test-${++idem}`;

beforeAll(async () => {
  db = await createTestDatabase();
  for (const role of ROLES) {
    const created = await db.pool.transaction((tx) =>
      createApiKey(tx, {
        name: `role ${role}`,
        roles: [role],
        owner: "test",
        createdBy: "test",
        now: Date.now(),
      }),
    );
    keyOf.set(role, created);
  }
  // A generous limit: the refusal tests below fail many times from one (unknown) address.
  server = await start({ maxFailures: 10_000, windowMs: 60_000 });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

/** Methods with a handler; the JWT methods are not built yet. */
function servedMethods(): DescMethod[] {
  const impl = handlers();
  return AdminService.methods.filter((m) => m.localName in impl);
}

/** A call that gets past authorization and then stops without changing state. */
function probe(c: Client<typeof AdminService>, m: DescMethod): Promise<unknown> {
  // Writes without an idempotency key (or id) are refused after authorization; reads just read.
  const call = (c as unknown as Record<string, (req: object) => Promise<unknown>>)[m.localName];
  return call!({});
}

describe("authorization through a real Connect server", () => {
  it("lets each role call exactly the AdminService RPCs the protos grant it", async () => {
    const methods = servedMethods();
    expect(methods.map((m) => m.name)).toContain("PausePayouts");
    for (const role of ROLES) {
      const c = client(keyOf.get(role)!.key);
      for (const m of methods) {
        const allowed = rolesOf(m).includes(role);
        const err = await probe(c, m).then(
          () => undefined,
          (e: unknown) => e,
        );
        const label = `${roleProtoName(role)} → ${m.name}`;
        if (allowed) {
          expect(
            [undefined, "request.idempotency_key_missing", "request.invalid"],
            label,
          ).toContain(reasonOf(err));
        } else {
          expect(err, label).toBeInstanceOf(ConnectError);
          expect((err as ConnectError).code, label).toBe(Code.PermissionDenied);
          expect(reasonOf(err), label).toBe("auth.permission_denied");
          const info = (err as ConnectError).findDetails(ErrorInfoSchema)[0];
          expect(info?.metadata.required, label).toBe(rolesOf(m).map(roleProtoName).join(","));
        }
      }
    }
  });

  it("refuses every RPC without credentials, with a bad key, or with a non-Bearer header", async () => {
    const bad = `tp_${"0".repeat(24)}_${"A".repeat(43)}`;
    for (const c of [client(), client(bad)]) {
      for (const m of servedMethods()) {
        const err = await failure(probe(c, m));
        expect(err.code).toBe(Code.Unauthenticated);
        expect(reasonOf(err)).toBe("auth.unauthenticated");
      }
    }
    const basic = createClient(
      AdminService,
      createConnectTransport({
        baseUrl: server.url,
        httpVersion: "2",
        interceptors: [
          (next) => (req) => {
            req.header.set("authorization", "Basic abc");
            return next(req);
          },
        ],
      }),
    );
    expect(reasonOf(await failure(basic.getPauseState({})))).toBe("auth.unauthenticated");
  });

  it("accepts the key in x-api-key as well as in authorization", async () => {
    const c = client(keyOf.get(Role.AUDITOR)!.key, server.url, "x-api-key");
    await expect(c.getPauseState({})).resolves.toBeDefined();
  });

  it("refuses a key with allowed_ips when the server cannot tell the client address", async () => {
    const created = await db.pool.transaction((tx) =>
      createApiKey(tx, {
        name: "ip",
        owner: "test",
        roles: [Role.ADMIN],
        createdBy: "test",
        now: Date.now(),
        allowedIps: ["127.0.0.1"],
      }),
    );
    expect(reasonOf(await failure(client(created.key).getPauseState({})))).toBe(
      "auth.unauthenticated",
    );
  });

  it("locks out an address after repeated failures, even for a good key", async () => {
    const limited = await start({ maxFailures: 3, windowMs: 60_000 }, true);
    try {
      for (let i = 0; i < 3; i++) {
        expect(reasonOf(await failure(client("nope", limited.url).getPauseState({})))).toBe(
          "auth.unauthenticated",
        );
      }
      const err = await failure(client(keyOf.get(Role.ADMIN)!.key, limited.url).getPauseState({}));
      expect(err.code).toBe(Code.ResourceExhausted);
      expect(reasonOf(err)).toBe("auth.rate_limited");
      const retry = Number(err.findDetails(ErrorInfoSchema)[0]?.metadata.retry_after_ms);
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(60_000);
    } finally {
      await limited.close();
    }
  });
});

describe("API keys over the API", () => {
  it("returns a new key once; the repeat returns the same id with an empty key, and nothing stores the secret", async () => {
    const request = { idempotencyKey: nextKey(), name: "svc", roles: [Role.SERVICE] };
    const first = await admin().createApiKey(request);
    expect(first.key).toMatch(/^tp_[0-9a-f]{24}_/);
    expect(first.apiKey?.roles).toEqual([Role.SERVICE]);
    expect(first.apiKey?.createdBy).toBe(`key:${keyOf.get(Role.ADMIN)!.id}`);
    const again = await admin().createApiKey(request);
    expect(again.apiKey?.id).toBe(first.apiKey?.id);
    expect(again.key).toBe("");
    const stored = await db.pool.oneFirst(sql.type(z.object({ response: z.instanceof(Buffer) }))`
      SELECT response FROM idempotency_keys WHERE key = ${request.idempotencyKey}`);
    expect(fromBinary(CreateApiKeyResponseSchema, stored).key).toBe("");
    expect(stored.includes(Buffer.from(first.key.slice(-43)))).toBe(false);
    // The new key works, with its own roles: a service may not read the audit log.
    const err = await failure(client(first.key).queryAuditLog({}));
    expect(reasonOf(err)).toBe("auth.permission_denied");
  });

  it("refuses a reused idempotency key with a different request", async () => {
    const idempotencyKey = nextKey();
    await admin().createApiKey({ idempotencyKey, name: "a", roles: [Role.AUDITOR] });
    const err = await failure(
      admin().createApiKey({ idempotencyKey, name: "b", roles: [Role.AUDITOR] }),
    );
    expect(reasonOf(err)).toBe("request.idempotency_key_reused");
  });

  it("refuses onion client authorization, which is not built yet", async () => {
    const err = await failure(
      admin().createApiKey({
        idempotencyKey: nextKey(),
        name: "o",
        roles: [Role.SERVICE],
        onionClientAuthKey: "X",
      }),
    );
    expect(err.code).toBe(Code.Unimplemented);
    expect(reasonOf(err)).toBe("request.unsupported");
  });

  it("revokes a key at once, audits it, and lists it only with include_inactive", async () => {
    const created = await admin().createApiKey({
      idempotencyKey: nextKey(),
      name: "gone",
      roles: [Role.AUDITOR],
    });
    const id = created.apiKey!.id;
    await expect(client(created.key).getPauseState({})).resolves.toBeDefined();
    const revoked = await admin().revokeApiKey({
      idempotencyKey: nextKey(),
      id,
      reason: "rotated",
    });
    expect(revoked.apiKey?.revokedAt).toBeDefined();
    expect(reasonOf(await failure(client(created.key).getPauseState({})))).toBe(
      "auth.unauthenticated",
    );
    const active = await admin().listApiKeys({ page: { pageSize: 500 } });
    expect(active.apiKeys.map((k) => k.id)).not.toContain(id);
    const all = await admin().listApiKeys({ includeInactive: true, page: { pageSize: 500 } });
    expect(all.apiKeys.find((k) => k.id === id)?.revokedAt).toBeDefined();
    const audit = await admin().queryAuditLog({
      action: "api_key.revoke",
      subject: `api_key:${id}`,
    });
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]?.actor).toBe(`key:${keyOf.get(Role.ADMIN)!.id}`);
    expect(JSON.parse(audit.entries[0]!.detailsJson)).toEqual({ reason: "rotated" });
  });

  it("answers not_found for an unknown key id", async () => {
    const err = await failure(
      admin().revokeApiKey({ idempotencyKey: nextKey(), id: "f".repeat(24) }),
    );
    expect(reasonOf(err)).toBe("request.not_found");
  });

  it("pages through keys newest first without repeats", async () => {
    const all = await admin().listApiKeys({ includeInactive: true, page: { pageSize: 500 } });
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await admin().listApiKeys({
        includeInactive: true,
        page: { pageSize: 2, pageToken },
      });
      expect(page.apiKeys.length).toBeLessThanOrEqual(2);
      seen.push(...page.apiKeys.map((k) => k.id));
      pageToken = page.page?.nextPageToken ?? "";
    } while (pageToken !== "");
    expect(seen).toEqual(all.apiKeys.map((k) => k.id));
    const created = all.apiKeys.map(
      (k) => Number(k.createdAt!.seconds) * 1000 + k.createdAt!.nanos / 1e6,
    );
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect(reasonOf(await failure(admin().listApiKeys({ page: { pageToken: "garbage" } })))).toBe(
      "request.invalid",
    );
  });
});

describe("the pause switch", () => {
  it("pauses and resumes payouts, keeps the first pause, and audits each change once", async () => {
    const adminId = `key:${keyOf.get(Role.ADMIN)!.id}`;
    expect((await admin().getPauseState({})).state?.paused).toBe(false);
    expect(await isPaused(db.pool)).toBe(false);
    const paused = await admin().pausePayouts({
      idempotencyKey: nextKey(),
      reason: "node upgrade",
    });
    expect(paused.state).toMatchObject({ paused: true, reason: "node upgrade", pausedBy: adminId });
    expect(await isPaused(db.pool)).toBe(true);
    const again = await admin().pausePayouts({ idempotencyKey: nextKey(), reason: "other" });
    expect(again.state?.reason).toBe("node upgrade");
    const seen = await client(keyOf.get(Role.AUDITOR)!.key).getPauseState({});
    expect(seen.state?.paused).toBe(true);
    const resumed = await admin().resumePayouts({ idempotencyKey: nextKey() });
    expect(resumed.state).toMatchObject({
      paused: false,
      reason: "node upgrade",
      resumedBy: adminId,
    });
    expect(await isPaused(db.pool)).toBe(false);
    const audit = await admin().queryAuditLog({ action: "payouts." });
    expect(audit.entries.map((e) => [e.action, e.actor])).toEqual([
      ["payouts.pause", adminId],
      ["payouts.resume", adminId],
    ]);
  });

  it("refuses a pause without a reason", async () => {
    const err = await failure(admin().pausePayouts({ idempotencyKey: nextKey(), reason: " " }));
    expect(reasonOf(err)).toBe("request.invalid");
  });
});

describe("the audit log over the API", () => {
  it("filters by actor and time and pages by seq", async () => {
    const all = await admin().queryAuditLog({ page: { pageSize: 500 } });
    expect(all.entries.length).toBeGreaterThan(5);
    expect(all.entries.map((e) => e.seq)).toEqual(all.entries.map((_, i) => BigInt(i + 1)));
    const seen: bigint[] = [];
    let pageToken = "";
    do {
      const page = await admin().queryAuditLog({ page: { pageSize: 3, pageToken } });
      seen.push(...page.entries.map((e) => e.seq));
      pageToken = page.page?.nextPageToken ?? "";
    } while (pageToken !== "");
    expect(seen).toEqual(all.entries.map((e) => e.seq));
    const byTest = await admin().queryAuditLog({ actor: "test", page: { pageSize: 500 } });
    expect(byTest.entries.length).toBeGreaterThan(0);
    expect(byTest.entries.every((e) => e.actor === "test")).toBe(true);
    const future = timestampFromMs(Date.now() + 3_600_000);
    const none = await admin().queryAuditLog({ range: { startTime: future } });
    expect(none.entries).toEqual([]);
    const fromThree = await admin().queryAuditLog({ fromSeq: 3n, page: { pageSize: 1 } });
    expect(fromThree.entries[0]?.seq).toBe(3n);
  });

  it("verifies the chain, and detects a row altered behind the trigger's back", async () => {
    const good = await client(keyOf.get(Role.AUDITOR)!.key).verifyAuditLog({});
    expect(good.ok).toBe(true);
    expect(good.firstBadSeq).toBe(0n);
    expect(good.entriesChecked).toBe(good.lastSeq);
    const tip = await db.pool.one(
      sql.type(z.object({ seq: z.bigint(), hash: z.string() }))`SELECT seq, hash FROM audit_head`,
    );
    expect(good.lastSeq).toBe(tip.seq);
    expect(good.lastHash).toBe(tip.hash);

    await db.pool.connect(async (conn) => {
      await conn.query(sql.unsafe`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`);
      await conn.query(sql.unsafe`UPDATE audit_log SET actor = 'someone else' WHERE seq = 3`);
      await conn.query(sql.unsafe`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`);
    });
    const bad = await admin().verifyAuditLog({});
    expect(bad).toMatchObject({
      ok: false,
      firstBadSeq: 3n,
      problem: "hash_mismatch",
      entriesChecked: 2n,
      lastSeq: 2n,
    });
    // A range that ends before the altered row still verifies.
    expect((await admin().verifyAuditLog({ toSeq: 2n })).ok).toBe(true);
  });
});
