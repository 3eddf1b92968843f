import { create } from "@bufbuild/protobuf";
import { createPool, type DatabasePool, sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { bundledMigrations, migrate } from "../../src/core/db/migrate.js";
import { transition } from "../../src/core/engine/repo.js";
import { idempotent } from "../../src/core/kernel/idempotency.js";
import { payoutToProto } from "../../src/core/payouts/convert.js";
import { cancelPayout, createBatch, createPayout } from "../../src/core/payouts/flows.js";
import { routeLimits } from "../../src/core/payouts/limits.js";
import { retryPayout } from "../../src/core/payouts/retry.js";
import {
  CreatePayoutRequestSchema,
  CreatePayoutResponseSchema,
} from "../../src/gen/tronpay/v1/payout_pb.js";
import { appErrorOf, reasonOf } from "../../src/shared/errors.js";
import { newTestAccount } from "../devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { insertPayoutWallet, payoutInput, USDT, uniformRules } from "../helpers/payout-db.js";
import { seedPayouts } from "../helpers/seed-payouts.js";

const alice = { principal: "key:alice", now: Date.now() };
const wallet = { id: "wal_limits", address: newTestAccount().address };
let seq = 0;
const dbs: TestDatabase[] = [];

async function freshDatabase(migrated = true): Promise<TestDatabase> {
  const db = await createTestDatabase(migrated);
  dbs.push(db);
  if (migrated) await insertPayoutWallet(db, wallet);
  return db;
}

afterAll(async () => {
  for (const db of dbs) await db.drop();
});

const fail = (p: Promise<unknown>) => p.then(() => "ok", reasonOf);

/** The definition the counters must match: each day's payouts that are not CANCELLED or FAILED. */
async function expectedUsage(pool: DatabasePool) {
  const rows = await pool.any(sql.type(z.object({ key: z.string(), used: z.bigint() }))`
    SELECT p.route || ':' || o.asset || ':' || ((o.created_at AT TIME ZONE 'UTC')::date)::text AS key,
           sum(o.amount)::bigint AS used
    FROM operations o JOIN payouts p ON p.id = o.id
    WHERE o.state <> 'CANCELLED' AND o.state <> 'FAILED' GROUP BY 1 ORDER BY 1`);
  return Object.fromEntries(rows.map((r) => [r.key, r.used]));
}

async function storedUsage(pool: DatabasePool) {
  const rows = await pool.any(sql.type(z.object({ key: z.string(), used: z.bigint() }))`
    SELECT route || ':' || asset || ':' || day::text AS key, used FROM daily_usage
    WHERE used <> 0 ORDER BY 1`);
  return Object.fromEntries(rows.map((r) => [r.key, r.used]));
}

describe("the daily limit under concurrency", () => {
  it("accepts exactly 10 of 64 concurrent creates against a limit that allows 10", async () => {
    const db = await freshDatabase();
    const pool = await createPool(db.url, { maximumPoolSize: 32 });
    try {
      const rules = uniformRules(10n * USDT, 10n * USDT, 100n * USDT);
      const outcomes = await Promise.all(
        Array.from({ length: 64 }, (_, i) =>
          fail(
            pool.transaction((tx) =>
              createPayout(tx, rules, alice, `c-${i}`, payoutInput(wallet.id, { amount: "1" })),
            ),
          ),
        ),
      );
      expect(outcomes.filter((o) => o === "ok")).toHaveLength(10);
      expect(outcomes.filter((o) => o === "payout.limit_exceeded")).toHaveLength(54);
      const stored = await pool.oneFirst(sql.type(z.object({ n: z.number() }))`
        SELECT count(*)::int AS n FROM payouts`);
      expect(stored).toBe(10);
      const v0 = (await routeLimits(pool, rules, Date.now())).limits.find(
        (l) => l.route === "V0" && l.asset === "USDT",
      );
      expect(v0?.usedToday).toBe(10n * USDT);
      expect(v0?.remainingToday).toBe(0n);
    } finally {
      await pool.end();
    }
  }, 60_000);
});

describe("the cost of one create", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await seedPayouts(db.pool, {
      walletId: wallet.id,
      ownerAddress: wallet.address,
      recipientAddress: newTestAccount().address,
      total: 30_000,
      today: 20_000,
    });
  }, 120_000);

  it("reads a few payout rows, not the day's, with 20,000 payouts stored today", async () => {
    const rules = uniformRules(10n * USDT, 10n ** 12n, 100n * USDT);
    const TupleReads = z.object({ n: z.bigint() });
    const reads = await db.pool.connect(async (conn) => {
      const count = async () => {
        // Statistics of this backend reach the shared view when it goes idle after this call.
        await conn.query(sql.unsafe`SELECT pg_stat_force_next_flush()`);
        await conn.query(sql.unsafe`SELECT 1`);
        await conn.query(sql.unsafe`SELECT pg_stat_clear_snapshot()`);
        return conn.oneFirst(sql.type(TupleReads)`
          SELECT sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::bigint AS n
          FROM pg_stat_user_tables WHERE relname IN ('operations', 'payouts')`);
      };
      const before = await count();
      await conn.transaction((tx) =>
        createPayout(tx, rules, alice, `cost-${++seq}`, payoutInput(wallet.id)),
      );
      return (await count()) - before;
    });
    expect(reads).toBeLessThan(20n);
  }, 60_000);

  it("makes at most 5 queries inside its transaction", async () => {
    const queries: string[] = [];
    const pool = await createPool(db.url, {
      maximumPoolSize: 1,
      interceptors: [
        {
          name: "count-queries",
          beforeQueryExecution: (_ctx, q) => {
            queries.push(q.sql);
            return null;
          },
        },
      ],
    });
    try {
      const rules = uniformRules(10n * USDT, 10n ** 12n, 100n * USDT);
      const key = `trips-${++seq}`;
      const request = create(CreatePayoutRequestSchema, { idempotencyKey: key });
      await idempotent(
        pool,
        {
          principal: alice.principal,
          method: "test/CreatePayout",
          requestSchema: CreatePayoutRequestSchema,
          request,
          responseSchema: CreatePayoutResponseSchema,
        },
        async (tx) => {
          const row = await createPayout(tx, rules, alice, key, payoutInput(wallet.id));
          return { payout: payoutToProto(row, []) };
        },
      );
      expect(queries.length, queries.join("\n---\n")).toBeLessThanOrEqual(5);
    } finally {
      await pool.end();
    }
  });
});

describe("the counters", () => {
  it("equal each day's payouts that are not CANCELLED or FAILED, whatever path changes them", async () => {
    const db = await freshDatabase();
    const rules = uniformRules(1_000n * USDT, 1_000_000n * USDT, 500n * USDT);
    const create = (patch = {}) =>
      db.pool.transaction((tx) =>
        createPayout(tx, rules, alice, `p-${++seq}`, payoutInput(wallet.id, patch)),
      );
    const a = await create({ amount: "3" });
    const b = await create({ amount: "5", asset: "TRX" });
    const c = await create({ amount: "7", route: "KYC", kycHash: "a".repeat(64) }).catch(() =>
      create({ amount: "7" }),
    );
    const d = await create({ amount: "600" }); // AWAITING_APPROVAL counts too
    await db.pool.transaction((tx) =>
      createBatch(tx, rules, alice, `batch-${++seq}`, [
        { reference: "x", input: payoutInput(wallet.id, { amount: "2" }) },
        { reference: "y", input: payoutInput(wallet.id, { amount: "4", asset: "TRX" }) },
      ]),
    );
    await db.pool.transaction((tx) => cancelPayout(tx, alice, d.id, "changed my mind"));
    // The engine's failure path, and a hold (which still counts).
    await db.pool.transaction((tx) =>
      transition(tx, b, "QUEUED", "FAILED", { failureReason: "chain.revert" }, "engine"),
    );
    await db.pool.transaction((tx) =>
      transition(tx, c, "QUEUED", "HELD", { holdReason: "wallet.insufficient_usdt" }, "engine"),
    );
    // Retried: counts again.
    await db.pool.transaction((tx) => retryPayout(tx, rules, alice, b.id));
    // A payout moved to an earlier day by hand counts on that day, and a raw state change.
    await db.pool.query(
      sql.unsafe`UPDATE operations SET created_at = now() - interval '3 days' WHERE id = ${a.id}`,
    );
    await db.pool.query(sql.unsafe`
      UPDATE operations SET state = 'FAILED', failure_reason = 'signer.policy_denied' WHERE id = ${c.id}`);
    const expected = await expectedUsage(db.pool);
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(3);
    expect(await storedUsage(db.pool)).toEqual(expected);
  });

  it("count a payout as it is when its transaction commits, whatever changed it before", async () => {
    const db = await freshDatabase();
    const rules = uniformRules(1_000n * USDT, 1_000_000n * USDT, 500n * USDT);
    const input = (amount: string, asset: "USDT" | "TRX" = "USDT") =>
      payoutInput(wallet.id, { amount, asset });
    // Cancelled in the transaction that created it: never counted.
    await db.pool.transaction(async (tx) => {
      const p = await createPayout(tx, rules, alice, `s-${++seq}`, input("11"));
      await cancelPayout(tx, alice, p.id, "in the same transaction");
    });
    // Its amount, asset and day changed before the commit: counted as they are then.
    await db.pool.transaction(async (tx) => {
      const p = await createPayout(tx, rules, alice, `s-${++seq}`, input("13"));
      await tx.query(sql.unsafe`
        UPDATE operations SET amount = amount * 2, asset = 'TRX', created_at = now() - interval '1 day'
        WHERE id = ${p.id}`);
    });
    // Moved to another route before the commit.
    await db.pool.transaction(async (tx) => {
      const p = await createPayout(tx, rules, alice, `s-${++seq}`, input("17"));
      await tx.query(sql.unsafe`UPDATE payouts SET route = 'DIRECT' WHERE id = ${p.id}`);
    });
    // Created and deleted again.
    await db.pool.transaction(async (tx) => {
      const p = await createPayout(tx, rules, alice, `s-${++seq}`, input("19"));
      await tx.query(sql.unsafe`DELETE FROM outbox WHERE subject_id = ${p.id}`);
      await tx.query(sql.unsafe`DELETE FROM payouts WHERE id = ${p.id}`);
    });
    // A payout of an earlier transaction changed next to a new one (it counted already).
    const old = await db.pool.transaction((tx) =>
      createPayout(tx, rules, alice, `s-${++seq}`, input("23")),
    );
    await db.pool.transaction(async (tx) => {
      await createPayout(tx, rules, alice, `s-${++seq}`, input("29"));
      await cancelPayout(tx, alice, old.id, "next to a new one");
    });
    const expected = await expectedUsage(db.pool);
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(3);
    expect(await storedUsage(db.pool)).toEqual(expected);
  });

  it("refuse through idempotent() with payout.limit_exceeded, keeping the key free", async () => {
    const db = await freshDatabase();
    const rules = uniformRules(10n * USDT, 10n * USDT, 100n * USDT);
    const call = (key: string, amount: string) => {
      const request = create(CreatePayoutRequestSchema, { idempotencyKey: key });
      return idempotent(
        db.pool,
        {
          principal: alice.principal,
          method: "test/CreatePayout",
          requestSchema: CreatePayoutRequestSchema,
          request,
          responseSchema: CreatePayoutResponseSchema,
        },
        async (tx) => {
          const row = await createPayout(tx, rules, alice, key, payoutInput(wallet.id, { amount }));
          return { payout: payoutToProto(row, []) };
        },
      );
    };
    expect(await fail(call("k-1", "8"))).toBe("ok");
    const refused = await call("k-2", "3").catch((err: unknown) => err);
    const error = appErrorOf(refused);
    expect(error?.reason).toBe("payout.limit_exceeded");
    expect(error?.metadata).toEqual({ field: "", limit: "per_day", route: "V0" });
    expect(error?.message).toBe("this would exceed today's V0 limit for USDT");
    // Nothing of the refused create is stored; its key can be used again.
    const keys = await db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM idempotency_keys WHERE key = 'k-2'`);
    expect(keys).toBe(0);
    expect(await fail(call("k-2", "2"))).toBe("ok");
    expect(await storedUsage(db.pool)).toEqual(await expectedUsage(db.pool));
  });

  it("free a cancelled payout's amount for the day, and check a retried FAILED payout again", async () => {
    const db = await freshDatabase();
    const rules = uniformRules(10n * USDT, 10n * USDT, 100n * USDT);
    const create = (amount: string) =>
      fail(
        db.pool.transaction((tx) =>
          createPayout(tx, rules, alice, `f-${++seq}`, payoutInput(wallet.id, { amount })),
        ),
      );
    const first = await db.pool.transaction((tx) =>
      createPayout(tx, rules, alice, `f-${++seq}`, payoutInput(wallet.id, { amount: "6" })),
    );
    expect(await create("5")).toBe("payout.limit_exceeded");
    await db.pool.transaction((tx) => cancelPayout(tx, alice, first.id, "wrong amount"));
    expect(await create("5")).toBe("ok");
    const failed = await db.pool.transaction((tx) =>
      createPayout(tx, rules, alice, `f-${++seq}`, payoutInput(wallet.id, { amount: "5" })),
    );
    await db.pool.transaction((tx) =>
      transition(tx, failed, "QUEUED", "FAILED", { failureReason: "chain.revert" }, "engine"),
    );
    expect(await create("4")).toBe("ok");
    expect(await fail(db.pool.transaction((tx) => retryPayout(tx, rules, alice, failed.id)))).toBe(
      "payout.limit_exceeded",
    );
    expect(await storedUsage(db.pool)).toEqual(await expectedUsage(db.pool));
  });

  it("are backfilled by migration 012 from the payouts stored before it", async () => {
    const db = await freshDatabase(false);
    const all = bundledMigrations();
    await migrate(
      db.pool,
      all.filter((m) => m.version < 12),
    );
    await insertPayoutWallet(db, wallet);
    await seedPayouts(db.pool, {
      walletId: wallet.id,
      ownerAddress: wallet.address,
      recipientAddress: newTestAccount().address,
      total: 2_000,
      today: 500,
      amount: 3n,
    });
    expect(await migrate(db.pool, all)).toContain(12);
    const expected = await expectedUsage(db.pool);
    expect(Object.keys(expected).length).toBeGreaterThan(100);
    expect(await storedUsage(db.pool)).toEqual(expected);
  }, 60_000);
});
