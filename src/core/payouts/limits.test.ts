import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/helpers/db.js";
import { checkDailyLimit, limitExceeded, routeLimits } from "./limits.js";
import type { PayoutRules } from "./validate.js";

const rules: PayoutRules = {
  limits: {
    V0: { maxPerPayout: 100n, maxPerDay: 1_000n },
    KYC: { maxPerPayout: 500n, maxPerDay: 5_000n },
    DIRECT: { maxPerPayout: 50n, maxPerDay: 200n },
  },
  approvalThreshold: 80n,
};

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  await db?.drop();
});

describe("limitExceeded", () => {
  it("names the route, the asset, the request field and the per-day limit", () => {
    const err = limitExceeded("KYC", "TRX", "items[2].amount.value");
    expect(err.reason).toBe("payout.limit_exceeded");
    expect(err.message).toContain("KYC limit for TRX");
    expect(err.metadata).toEqual({
      field: "items[2].amount.value",
      limit: "per_day",
      route: "KYC",
    });
  });
});

describe("daily limits on a real database", () => {
  it("lists every route and asset with nothing used and the next UTC midnight", async () => {
    const now = Date.UTC(2026, 4, 6, 13, 14, 15);
    const { limits, resetsAt } = await routeLimits(db.pool, rules, now);
    expect(resetsAt).toBe(Date.UTC(2026, 4, 7));
    expect(limits.map((l) => `${l.route}:${l.asset}`)).toEqual([
      "V0:TRX",
      "V0:USDT",
      "KYC:TRX",
      "KYC:USDT",
      "DIRECT:TRX",
      "DIRECT:USDT",
    ]);
    expect(limits[4]).toEqual({
      route: "DIRECT",
      asset: "TRX",
      perPayoutMax: 50n,
      dailyMax: 200n,
      usedToday: 0n,
      remainingToday: 200n,
      fourEyesThreshold: 80n,
    });
  });

  it("sums the charges per route and asset against today's use", async () => {
    const charges = [
      { route: "V0" as const, asset: "USDT" as const, amount: 600n },
      { route: "V0" as const, asset: "TRX" as const, amount: 900n },
      { route: "V0" as const, asset: "USDT" as const, amount: 400n },
    ];
    await db.pool.transaction((tx) => checkDailyLimit(tx, rules, charges, "items"));
    const over = [...charges, { route: "V0" as const, asset: "USDT" as const, amount: 1n }];
    await expect(
      db.pool.transaction((tx) => checkDailyLimit(tx, rules, over, "items")),
    ).rejects.toMatchObject({
      reason: "payout.limit_exceeded",
      metadata: { field: "items", route: "V0" },
    });
  });

  it("counts what today's counter row holds, and shows none left once it is used up", async () => {
    await db.pool.query(sql.unsafe`
      INSERT INTO daily_usage (route, asset, day, used)
      VALUES ('DIRECT', 'USDT', (now() AT TIME ZONE 'UTC')::date, 250)
      ON CONFLICT (route, asset, day) DO UPDATE SET used = 250`);
    const one = [{ route: "DIRECT" as const, asset: "USDT" as const, amount: 1n }];
    await expect(
      db.pool.transaction((tx) => checkDailyLimit(tx, rules, one, "amount.value")),
    ).rejects.toMatchObject({ reason: "payout.limit_exceeded" });
    const { limits } = await routeLimits(db.pool, rules, Date.now());
    const direct = limits.find((l) => l.route === "DIRECT" && l.asset === "USDT");
    expect(direct).toMatchObject({ usedToday: 250n, remainingToday: 0n });
  });
});
