import { randomUUID } from "node:crypto";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { adminService } from "../../src/core/app/routes.js";
import { type CoreServer, serveCore } from "../../src/core/app/server.js";
import { bootstrapAdminKey } from "../../src/core/auth/keys.js";
import { bundledMigrations, migrate } from "../../src/core/db/migrate.js";
import { createAuthInterceptor } from "../../src/core/interceptors/auth.js";
import type { PayoutKind } from "../../src/core/operations/kinds.js";
import { approvePayout, createPayout } from "../../src/core/payouts/flows.js";
import { AdminService } from "../../src/gen/tronpay/v1/admin_pb.js";
import { Role } from "../../src/gen/tronpay/v1/options_pb.js";
import { errorInterceptor } from "../../src/shared/connect.js";
import { reasonOf } from "../../src/shared/errors.js";
import { createLogger } from "../../src/shared/log.js";
import { newTestAccount } from "../devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { insertPayoutWallet, payoutInput, USDT, uniformRules } from "../helpers/payout-db.js";

/**
 * Four eyes are two people: keys carry an owner, and a payout (or USDT transfer) is approved
 * only by a key of another owner than its creator's. Keys are made through AdminService (real
 * server, real database); payouts through the flows the handlers call.
 */

const log = createLogger({ name: "test", level: "silent" });
const wallet = { id: "wal_four_eyes", address: newTestAccount().address };
const rules = uniformRules(1_000n * USDT, 100_000n * USDT, 5n * USDT);
let db: TestDatabase;
let server: CoreServer;
let admin: Client<typeof AdminService>;

beforeAll(async () => {
  db = await createTestDatabase();
  await insertPayoutWallet(db, wallet);
  const bootstrap = await bootstrapAdminKey(db.pool, "first admin");
  server = await serveCore({
    host: "127.0.0.1",
    port: 0,
    routes: (router) =>
      router.service(AdminService, adminService({ pool: db.pool, clock: Date.now })),
    interceptors: [
      errorInterceptor,
      createAuthInterceptor({ pool: db.pool, log, clock: Date.now }),
    ],
  });
  admin = client(bootstrap?.key ?? "");
}, 30_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

function client(key: string): Client<typeof AdminService> {
  return createClient(
    AdminService,
    createConnectTransport({
      baseUrl: server.url,
      httpVersion: "2",
      interceptors: [
        (next) => (req) => {
          req.header.set("authorization", `Bearer ${key}`);
          return next(req);
        },
      ],
    }),
  );
}

async function mint(by: Client<typeof AdminService>, roles: Role[], owner = "") {
  const { apiKey, key } = await by.createApiKey({
    idempotencyKey: randomUUID(),
    name: `key ${roles.join(",")} ${owner}`,
    roles,
    owner,
  });
  return { id: apiKey?.id ?? "", owner: apiKey?.owner ?? "", key };
}

/** A payout above the approval threshold, created by `principal`: AWAITING_APPROVAL. */
async function bigPayout(principal: string, kind: PayoutKind = "PAYOUT") {
  const row = await db.pool.transaction((tx) =>
    createPayout(
      tx,
      rules,
      { principal, now: Date.now() },
      randomUUID(),
      payoutInput(wallet.id, { amount: "10" }),
      kind,
    ),
  );
  expect(row.state).toBe("AWAITING_APPROVAL");
  return row.id;
}

function approve(principal: string, id: string) {
  return db.pool
    .transaction((tx) => approvePayout(tx, { principal, now: Date.now() }, id, "ok"))
    .then((row) => row.state, reasonOf);
}

describe("owners of API keys", () => {
  it("gives the bootstrap key an owner, and a key made by a key its creator's owner", async () => {
    const { apiKeys } = await admin.listApiKeys({});
    expect(apiKeys.find((k) => k.createdBy === "system:bootstrap")?.owner).toBe("bootstrap");
    const inherited = await mint(admin, [Role.APPROVER]);
    expect(inherited.owner).toBe("bootstrap");
    const secondAdmin = await mint(admin, [Role.ADMIN], "carol");
    expect(secondAdmin.owner).toBe("carol");
    const byCarol = await mint(client(secondAdmin.key), [Role.OPERATOR]);
    expect(byCarol.owner).toBe("carol");
  });

  it("refuses an owner that is not 1–100 of the allowed characters", async () => {
    const err = await mint(admin, [Role.AUDITOR], "bad owner\n").catch((e: unknown) => e);
    expect(reasonOf(err)).toBe("request.invalid");
  });
});

describe("four-eyes approval", () => {
  for (const kind of ["PAYOUT", "USDT_TRANSFER"] as const) {
    it(`refuses an approver key an admin minted for themselves (${kind})`, async () => {
      const operator = await mint(admin, [Role.OPERATOR]);
      const selfApprover = await mint(admin, [Role.APPROVER]);
      const id = await bigPayout(`key:${operator.id}`, kind);
      expect(await approve(`key:${selfApprover.id}`, id)).toBe("payout.approver_same_owner");
      // Nothing was half-written: it still waits, and another person can approve it.
      const bob = await mint(admin, [Role.APPROVER], "bob");
      expect(await approve(`key:${bob.id}`, id)).toBe("QUEUED");
    });
  }

  it("still refuses the creator's own key", async () => {
    const both = await mint(admin, [Role.OPERATOR, Role.APPROVER], "dave");
    const id = await bigPayout(`key:${both.id}`);
    expect(await approve(`key:${both.id}`, id)).toBe("auth.permission_denied");
  });
});

describe("keys from before owners existed (migration 009)", () => {
  it('makes each old key its own owner, the bootstrap key "bootstrap", each old token its own family', async () => {
    const old = await createTestDatabase(false);
    try {
      await migrate(
        old.pool,
        bundledMigrations().filter((m) => m.version < 9),
      );
      const hash = sql.binary(Buffer.alloc(32));
      await old.pool.query(sql.unsafe`
        INSERT INTO api_keys (id, name, secret_hash, roles, created_by) VALUES
          ('aaaaaaaaaaaaaaaaaaaaaaaa', 'first', ${hash}, '{admin}', 'system:bootstrap'),
          ('bbbbbbbbbbbbbbbbbbbbbbbb', 'second', ${hash}, '{approver}', 'key:aaaaaaaaaaaaaaaaaaaaaaaa')`);
      await old.pool.query(sql.unsafe`
        INSERT INTO issued_tokens (jti, subject, api_key_id, roles, issued_at, expires_at, refresh_hash,
                                   refresh_expires_at)
        VALUES (${"c".repeat(32)}, 'key:bbbbbbbbbbbbbbbbbbbbbbbb', 'bbbbbbbbbbbbbbbbbbbbbbbb', '{approver}',
                now(), now(), ${hash}, now())`);
      expect(
        await migrate(
          old.pool,
          bundledMigrations().filter((m) => m.version <= 9),
        ),
      ).toEqual([9]);
      const owners = await old.pool.any(sql.type(z.object({ id: z.string(), owner: z.string() }))`
        SELECT id, owner FROM api_keys ORDER BY id`);
      expect(owners).toEqual([
        { id: "aaaaaaaaaaaaaaaaaaaaaaaa", owner: "bootstrap" },
        { id: "bbbbbbbbbbbbbbbbbbbbbbbb", owner: "key:bbbbbbbbbbbbbbbbbbbbbbbb" },
      ]);
      const family = await old.pool.oneFirst(sql.type(z.object({ family_id: z.string() }))`
        SELECT family_id FROM issued_tokens`);
      expect(family).toBe("c".repeat(32));
    } finally {
      await old.drop();
    }
  });
});
