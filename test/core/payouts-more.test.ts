import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { pausePayouts, resumePayouts } from "../../src/core/admin/pause.js";
import type { Chain, TxInfo } from "../../src/core/chain/types.js";
import { csvField, exportPayouts } from "../../src/core/payouts/export.js";
import { BatchInvalid, createBatch, createPayout } from "../../src/core/payouts/flows.js";
import { routeLimits } from "../../src/core/payouts/limits.js";
import { reconcilePayout } from "../../src/core/payouts/reconcile.js";
import { reconcileOnce } from "../../src/core/payouts/reconcile-job.js";
import { retryPayout } from "../../src/core/payouts/retry.js";
import { payoutStats } from "../../src/core/payouts/stats.js";
import type { PayoutInput, PayoutRules } from "../../src/core/payouts/validate.js";
import { BadRequestSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { type AppError, reasonOf } from "../../src/shared/errors.js";
import { createLogger } from "../../src/shared/log.js";
import { newTestAccount } from "../devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { insertPayoutWallet, payoutInput } from "../helpers/payout-db.js";

let db: TestDatabase;
const wallet = { id: "wal_more", address: newTestAccount().address };
const USDT = 1_000_000n;
const rules: PayoutRules = {
  limits: {
    V0: { maxPerPayout: 1_000n * USDT, maxPerDay: 10_000n * USDT },
    KYC: { maxPerPayout: 10_000n * USDT, maxPerDay: 100_000n * USDT },
    DIRECT: { maxPerPayout: 10_000n * USDT, maxPerDay: 100_000n * USDT },
  },
  approvalThreshold: 500n * USDT,
};
const alice = { principal: "key:alice", now: Date.now() };
let seq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  await insertPayoutWallet(db, wallet);
}, 30_000);

afterAll(async () => {
  await db?.drop();
});

const fail = (p: Promise<unknown>) => p.then(() => "no error", reasonOf);

function input(patch: Partial<PayoutInput> = {}): PayoutInput {
  return payoutInput(wallet.id, patch);
}

async function newPayout(patch: Partial<PayoutInput> = {}) {
  return db.pool.transaction((tx) => createPayout(tx, rules, alice, `k-${++seq}`, input(patch)));
}

/** Puts a payout into `state` with one attempt, as the engine would have left it. */
async function withAttempt(
  id: string,
  state: string,
  attempt: { state: string; broadcasts: number; no?: number },
) {
  const txId = Buffer.from(`${id}-${attempt.no ?? 1}`.padEnd(32, "x").slice(0, 32)).toString("hex");
  await db.pool.query(sql.unsafe`
    INSERT INTO attempts (operation_id, attempt_no, tx_id, raw_data, signature, expiration, state, broadcast_count)
    VALUES (${id}, ${attempt.no ?? 1}, ${txId}, '\\x00', ${sql.binary(Buffer.alloc(65))}, now(), ${attempt.state},
            ${attempt.broadcasts})`);
  await setState(id, state);
  return txId;
}

async function setState(id: string, state: string, extra = sql.fragment`true`) {
  await db.pool.query(sql.unsafe`
    UPDATE operations SET state = ${state},
      confirmed_at = ${state === "CONFIRMED" ? sql.fragment`now()` : null},
      failure_reason = ${state === "FAILED" ? "signer.policy_denied" : null},
      hold_reason = ${state === "HELD" ? "wallet.insufficient_usdt" : null}
    WHERE id = ${id} AND ${extra}`);
}

const actions = (subject: string) =>
  db.pool.anyFirst(sql.type(z.object({ action: z.string() }))`
    SELECT action FROM audit_log WHERE subject = ${subject} ORDER BY seq`);

function fakeChain(included: Record<string, Partial<TxInfo>>): Chain {
  return {
    solidified: async () => ({ number: 1234n, id: "00", timestamp: Date.now() }),
    transactionInfo: async (txId: string) => {
      const hit = included[txId];
      if (!hit) return undefined;
      return {
        txId,
        blockNumber: 1200n,
        blockTime: Date.now(),
        result: "SUCCESS",
        feeSun: 6_400_000n,
        energyUsed: 64_285n,
        energyFeeSun: 6_400_000n,
        netUsed: 345n,
        netFeeSun: 0n,
        ...hit,
      };
    },
  } as unknown as Chain;
}

describe("RetryPayout", () => {
  it("puts a HELD payout back in the queue at once", async () => {
    const p = await newPayout();
    await setState(p.id, "HELD");
    const row = await db.pool.transaction((tx) => retryPayout(tx, rules, alice, p.id));
    expect(row.state).toBe("QUEUED");
    expect(row.hold_reason).toBeNull();
    expect(await actions(p.id)).toContain("payout.queued");
  });

  it("requeues a FAILED payout that was never broadcast", async () => {
    const p = await newPayout();
    await setState(p.id, "FAILED");
    const row = await db.pool.transaction((tx) => retryPayout(tx, rules, alice, p.id));
    expect(row.state).toBe("QUEUED");
    expect(row.failure_reason).toBeNull();
  });

  it("refuses a FAILED payout whose transaction was broadcast, and any other state", async () => {
    const sent = await newPayout();
    await withAttempt(sent.id, "FAILED", { state: "EXPIRED", broadcasts: 3 });
    expect(await fail(db.pool.transaction((tx) => retryPayout(tx, rules, alice, sent.id)))).toBe(
      "payout.invalid_state",
    );
    const queued = await newPayout();
    expect(await fail(db.pool.transaction((tx) => retryPayout(tx, rules, alice, queued.id)))).toBe(
      "payout.invalid_state",
    );
    expect(await fail(db.pool.transaction((tx) => retryPayout(tx, rules, alice, "po_x")))).toBe(
      "payout.not_found",
    );
  });
});

describe("ReconcilePayout", () => {
  it("confirms a BROADCAST payout the solidified chain shows included, and reports the correction", async () => {
    const p = await newPayout();
    const txId = await withAttempt(p.id, "BROADCAST", { state: "BROADCAST", broadcasts: 1 });
    const chain = fakeChain({ [txId]: {} });
    const r = await db.pool.transaction((tx) => reconcilePayout(tx, chain, "key:alice", p.id));
    expect(r.payout.state).toBe("CONFIRMED");
    expect(r.payout.fee_sun).toBe(6_400_000n);
    expect(r.solidifiedBlock).toBe(1234n);
    expect(r.discrepancies).toEqual([
      expect.objectContaining({ kind: "STATE", txId, recorded: "BROADCAST", corrected: true }),
    ]);
    expect(await actions(p.id)).toEqual(
      expect.arrayContaining(["payout.confirmed", "reconcile.discrepancy"]),
    );
  });

  it("reports a confirmed payout whose transaction the chain does not know, without moving it", async () => {
    const p = await newPayout();
    const txId = await withAttempt(p.id, "CONFIRMED", { state: "INCLUDED", broadcasts: 1 });
    const r = await db.pool.transaction((tx) =>
      reconcilePayout(tx, fakeChain({}), "key:alice", p.id),
    );
    expect(r.payout.state).toBe("CONFIRMED");
    expect(r.discrepancies).toEqual([
      { kind: "TX_NOT_FOUND", txId, recorded: "INCLUDED", observed: "not found", corrected: false },
    ]);
    expect((await actions(p.id)).at(-1)).toBe("reconcile.discrepancy");
  });

  it("reports a double payout when two attempts are included", async () => {
    const p = await newPayout();
    const first = await withAttempt(p.id, "CONFIRMED", { state: "EXPIRED", broadcasts: 1, no: 1 });
    const second = await withAttempt(p.id, "CONFIRMED", {
      state: "INCLUDED",
      broadcasts: 1,
      no: 2,
    });
    const chain = fakeChain({ [first]: {}, [second]: {} });
    const r = await db.pool.transaction((tx) => reconcilePayout(tx, chain, "key:alice", p.id));
    const kinds = r.discrepancies.map((d) => d.kind);
    expect(kinds).toContain("MULTIPLE_INCLUDED");
    expect(kinds).toContain("STATE"); // the "expired" attempt is on chain
  });

  it("writes nothing when records and chain agree", async () => {
    const p = await newPayout();
    const txId = await withAttempt(p.id, "CONFIRMED", { state: "INCLUDED", broadcasts: 1 });
    await db.pool.query(sql.unsafe`UPDATE operations SET fee_sun = 6400000 WHERE id = ${p.id}`);
    const before = await actions(p.id);
    const r = await db.pool.transaction((tx) =>
      reconcilePayout(tx, fakeChain({ [txId]: {} }), "key:alice", p.id),
    );
    expect(r.discrepancies).toEqual([]);
    expect(await actions(p.id)).toEqual(before);
  });

  it("the periodic job raises reconcile.discrepancy for a recently confirmed payout the chain disagrees with", async () => {
    const p = await newPayout();
    await withAttempt(p.id, "CONFIRMED", { state: "INCLUDED", broadcasts: 1 });
    const log = createLogger({ name: "test", level: "silent" });
    const differing = await reconcileOnce({
      pool: db.pool,
      chain: fakeChain({}),
      log,
      recentMs: 3_600_000,
      batchSize: 1000,
    });
    expect(differing).toBeGreaterThanOrEqual(1);
    const audit = await db.pool.one(sql.type(z.object({ actor: z.string(), details: z.any() }))`
      SELECT actor, details FROM audit_log WHERE subject = ${p.id} AND action = 'reconcile.discrepancy'`);
    expect(audit.actor).toBe("system:reconcile");
    expect(audit.details.discrepancies[0].kind).toBe("TX_NOT_FOUND");
  });
});

describe("batch refusals", () => {
  const count = () =>
    db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM payouts`);

  it("names every item past 1,000 and stores nothing", async () => {
    const before = await count();
    const to = newTestAccount().address;
    const items = Array.from({ length: 1002 }, (_, i) => ({
      reference: `r${i}`,
      input: input({ recipientAddress: to, amount: `0.${String(i + 1).padStart(6, "0")}` }),
    }));
    const err = await db.pool
      .transaction((tx) => createBatch(tx, rules, alice, `b-${++seq}`, items))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchInvalid);
    expect((err as BatchInvalid).items.map((i) => [i.index, i.itemReference])).toEqual([
      [1000, "r1000"],
      [1001, "r1001"],
    ]);
    expect(await count()).toBe(before);
  });

  it("lists each duplicate with its index and stores nothing", async () => {
    const before = await count();
    const to = newTestAccount().address;
    const items = [
      { reference: "a", input: input({ recipientAddress: to, amount: "1" }) },
      { reference: "b", input: input() },
      { reference: "c", input: input({ recipientAddress: to, amount: "1" }) },
    ];
    const err = await db.pool
      .transaction((tx) => createBatch(tx, rules, alice, `b-${++seq}`, items))
      .catch((e: unknown) => e);
    expect((err as BatchInvalid).items).toEqual([
      expect.objectContaining({ index: 2, itemReference: "c", reason: "payout.batch_invalid" }),
    ]);
    expect(await count()).toBe(before);
  });
});

describe("the pause switch", () => {
  it("refuses new payouts and batches with payout.paused while paused, and accepts them after", async () => {
    await db.pool.transaction((tx) =>
      pausePayouts(tx, { by: "key:admin", reason: "drill", now: Date.now() }),
    );
    expect(await fail(newPayout())).toBe("payout.paused");
    const batch = db.pool.transaction((tx) =>
      createBatch(tx, rules, alice, `b-${++seq}`, [{ reference: "a", input: input() }]),
    );
    expect(await fail(batch)).toBe("payout.paused");
    await db.pool.transaction((tx) => resumePayouts(tx, { by: "key:admin", now: Date.now() }));
    expect((await newPayout()).state).toBe("QUEUED");
  });
});

describe("statistics, limits and export", () => {
  const day = (d: number, h = 12) => Date.UTC(2025, 4, d, h);

  it("aggregates created, confirmed and failed payouts per UTC day and route, with fees", async () => {
    const a = await newPayout({ amount: "10" });
    const b = await newPayout({ amount: "2.5", asset: "TRX" });
    const c = await newPayout({ amount: "7" });
    const at = (ms: number) =>
      sql.fragment`'epoch'::timestamptz + ${ms} * interval '1 millisecond'`;
    for (const id of [a.id, b.id, c.id])
      await db.pool.query(
        sql.unsafe`UPDATE operations SET created_at = ${at(day(5))} WHERE id = ${id}`,
      );
    await db.pool.query(sql.unsafe`
      UPDATE operations SET state = 'CONFIRMED', confirmed_at = ${at(day(6, 1))}, fee_sun = 6400000,
        energy_used = 64285, bandwidth_used = 345 WHERE id = ANY(${sql.array([a.id, b.id], "text")})`);
    await db.pool.query(sql.unsafe`
      UPDATE operations SET state = 'FAILED', failure_reason = 'chain.revert', fee_sun = 1000000, energy_used = 100,
        bandwidth_used = 345, updated_at = ${at(day(6, 23))} WHERE id = ${c.id}`);
    const buckets = await payoutStats(db.pool, {
      granularity: "day",
      from: day(5, 6),
      to: day(6, 6),
      routes: ["V0"],
      walletId: wallet.id,
    });
    expect(buckets.map((x) => [new Date(x.periodStart).toISOString(), x.route])).toEqual([
      ["2025-05-05T00:00:00.000Z", "V0"],
      ["2025-05-06T00:00:00.000Z", "V0"],
    ]);
    const [d5, d6] = buckets;
    expect(d5?.createdCount).toBe(3n);
    expect(d5?.periodEnd).toBe(Date.UTC(2025, 4, 6));
    expect(d6?.confirmedCount).toBe(2n);
    expect(d6?.failedCount).toBe(1n);
    expect(Object.fromEntries(d6?.confirmedTotals ?? [])).toEqual({
      USDT: 10_000_000n,
      TRX: 2_500_000n,
    });
    expect(d6?.feeSun).toBe(13_800_000n);
    expect(d6?.energyUsed).toBe(128_670n);
    const weeks = await payoutStats(db.pool, {
      granularity: "week",
      from: day(5),
      to: day(7),
      routes: [],
      walletId: "",
    });
    expect(weeks).toHaveLength(1);
    expect(new Date(weeks[0]?.periodStart ?? 0).toISOString()).toBe("2025-05-05T00:00:00.000Z"); // a Monday
    expect(weeks[0]?.createdCount).toBe(3n);
  });

  it("refuses a statistics range of more than 366 periods", async () => {
    const q = {
      granularity: "day" as const,
      from: day(1),
      to: day(1) + 400 * 86_400_000,
      routes: [],
      walletId: "",
    };
    expect(await fail(payoutStats(db.pool, q))).toBe("request.invalid");
  });

  it("reports today's use against each route's limits", async () => {
    const before = await routeLimits(db.pool, rules, Date.now());
    const v0 = () => before.limits.find((l) => l.route === "V0" && l.asset === "USDT");
    const usedBefore = v0()?.usedToday ?? 0n;
    await newPayout({ amount: "3" });
    const after = await routeLimits(db.pool, rules, Date.now());
    const now = after.limits.find((l) => l.route === "V0" && l.asset === "USDT");
    expect(now?.usedToday).toBe(usedBefore + 3n * USDT);
    expect(now?.remainingToday).toBe(10_000n * USDT - usedBefore - 3n * USDT);
    expect(now?.perPayoutMax).toBe(1_000n * USDT);
    expect(now?.fourEyesThreshold).toBe(500n * USDT);
    expect(after.limits).toHaveLength(6);
    expect(after.resetsAt % 86_400_000).toBe(0);
    expect(after.resetsAt).toBeGreaterThan(Date.now());
  });

  it("escapes CSV fields that hold commas, quotes or line breaks", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField('say "hi", ok')).toBe('"say ""hi"", ok"');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
  });

  it("exports a period as CSV with a header and as JSON lines, one row per payout", async () => {
    const from = Date.now() - 1_000;
    const p = await newPayout({
      memo: 'a "quoted", memo\nwith a line break',
      clientReference: "ref,1",
    });
    const q = { from, to: Date.now() + 1_000, states: [], routes: [] };
    const csv = [];
    for await (const chunk of exportPayouts(db.pool, { ...q, format: "CSV" })) csv.push(chunk);
    expect(csv.at(-1)?.done).toBe(true);
    const text = csv.map((c) => c.data).join("");
    expect(text.startsWith("id,state,route,wallet_id,")).toBe(true);
    expect(text).toContain(`${p.id},QUEUED,V0,${wallet.id},`);
    expect(text).toContain('"a ""quoted"", memo\nwith a line break","ref,1"');
    const rows = csv.reduce((n, c) => n + c.rowCount, 0);
    const jsonl = [];
    for await (const chunk of exportPayouts(db.pool, { ...q, format: "JSONL" })) jsonl.push(chunk);
    const lines = jsonl
      .map((c) => c.data)
      .join("")
      .trimEnd()
      .split("\n");
    expect(lines).toHaveLength(rows);
    expect(lines.map((l) => JSON.parse(l).id)).toContain(p.id);
    expect(JSON.parse(lines.find((l) => l.includes(p.id)) ?? "{}").clientReference).toBe("ref,1");
  });
});

describe("a single payout with several bad fields", () => {
  it("answers the first and lists every bad field in a google.rpc.BadRequest", async () => {
    const err = await newPayout({
      asset: "",
      amount: "-1",
      memo: "m".repeat(201),
      priority: 9,
      recipientAddress: "not-an-address",
    }).then(
      () => undefined,
      (e: unknown) => e as AppError,
    );
    expect(err?.reason).toBe("money.asset_unspecified");
    const badRequest = err?.details.find((d) => d.desc === BadRequestSchema);
    const value = badRequest?.value as { fieldViolations: { field: string }[] } | undefined;
    const violations = value?.fieldViolations ?? [];
    expect(violations.map((v) => v.field)).toEqual([
      "amount.asset",
      "amount.value",
      "priority",
      "memo",
      "recipient_address",
    ]);
    const stored = await db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM operations WHERE memo = ${"m".repeat(201)}`);
    expect(stored).toBe(0);
  });

  it("answers one bad field with the same shape", async () => {
    expect(await fail(newPayout({ memo: "m".repeat(201) }))).toBe("request.invalid");
  });
});
