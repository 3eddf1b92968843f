import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { transition } from "../../src/core/engine/repo.js";
import { createPayout } from "../../src/core/payouts/flows.js";
import { checkDailyLimit } from "../../src/core/payouts/limits.js";
import { retryPayout } from "../../src/core/payouts/retry.js";
import { AppError, appErrorOf } from "../../src/shared/errors.js";
import { newTestAccount } from "../devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { insertPayoutWallet, payoutInput, USDT, uniformRules } from "../helpers/payout-db.js";

/** checkDailyLimit is the one daily-limit check of create (at commit), retry and batches (now). */

let db: TestDatabase;
const wallet = { id: "wal_check", address: newTestAccount().address };
const alice = { principal: "key:alice", now: Date.now() };
let seq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  await insertPayoutWallet(db, wallet);
}, 30_000);

afterAll(async () => {
  await db?.drop();
});

describe("checkDailyLimit", () => {
  it("at commit, arms the commit's check of every route charged, with the rules' limits", async () => {
    const rules = uniformRules(10n * USDT, 10n * USDT, 100n * USDT);
    const kycRules = {
      ...rules,
      limits: { ...rules.limits, KYC: { maxPerPayout: 1n, maxPerDay: 7n } },
    };
    const Settings = z.object({ v0: z.string().nullable(), kyc: z.string().nullable() });
    const settings = await db.pool.transaction(async (tx) => {
      const check = checkDailyLimit(
        tx,
        kycRules,
        [
          { route: "V0", asset: "USDT", amount: 1n },
          { route: "KYC", asset: "TRX", amount: 1n },
          { route: "V0", asset: "TRX", amount: 1n },
        ],
        "",
        "commit",
      );
      await tx.query(sql.unsafe`SELECT ${check}`);
      return tx.one(sql.type(Settings)`
        SELECT current_setting('tronpay.daily_max_v0', true) AS v0,
               current_setting('tronpay.daily_max_kyc', true) AS kyc`);
    });
    expect(settings).toEqual({ v0: (10n * USDT).toString(), kyc: "7" });
  });

  it("now, sums the charges per route and asset and refuses what passes the limit", async () => {
    const rules = uniformRules(10n * USDT, 10n * USDT, 100n * USDT);
    const check = (amounts: bigint[], field: string) =>
      db.pool.transaction((tx) =>
        checkDailyLimit(
          tx,
          rules,
          amounts.map((amount) => ({ route: "DIRECT" as const, asset: "USDT" as const, amount })),
          field,
        ),
      );
    await expect(check([5n * USDT, 5n * USDT], "items")).resolves.toBeUndefined();
    const refused = await check([5n * USDT, 5n * USDT + 1n], "items").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).reason).toBe("payout.limit_exceeded");
    expect((refused as AppError).metadata).toEqual({
      field: "items",
      limit: "per_day",
      route: "DIRECT",
    });
  });

  it("refuses create and retry alike, each naming its own field", async () => {
    const rules = uniformRules(10n * USDT, 10n * USDT, 100n * USDT);
    const create = (amount: string) =>
      db.pool.transaction((tx) =>
        createPayout(tx, rules, alice, `c-${++seq}`, payoutInput(wallet.id, { amount })),
      );
    const failed = await create("6");
    await db.pool.transaction((tx) =>
      transition(tx, failed, "QUEUED", "FAILED", { failureReason: "chain.revert" }, "t"),
    );
    await create("5");
    const refusedCreate = appErrorOf(await create("6").catch((e: unknown) => e));
    const refusedRetry = appErrorOf(
      await db.pool
        .transaction((tx) => retryPayout(tx, rules, alice, failed.id))
        .catch((e: unknown) => e),
    );
    const message = "this would exceed today's V0 limit for USDT";
    expect(refusedCreate?.reason).toBe("payout.limit_exceeded");
    expect(refusedCreate?.message).toBe(message);
    expect(refusedCreate?.metadata).toEqual({ field: "", limit: "per_day", route: "V0" });
    expect(refusedRetry?.reason).toBe("payout.limit_exceeded");
    expect(refusedRetry?.message).toBe(message);
    expect(refusedRetry?.metadata).toEqual({ field: "id", limit: "per_day", route: "V0" });
  });
});
