import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { approvePayout, cancelPayout } from "../../src/core/payouts/flows.js";
import { payoutsToReconcile } from "../../src/core/payouts/repo.js";
import { retryPayout } from "../../src/core/payouts/retry.js";
import { transferUsdt } from "../../src/core/usdt/flows.js";
import { reasonOf } from "../../src/shared/errors.js";
import { newTestAccount } from "../devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { insertPayoutWallet, USDT, uniformRules } from "../helpers/payout-db.js";

// USDT transfers (kind USDT_TRANSFER) through PayoutService's flows, on the real database.
let db: TestDatabase;
const wallet = { id: "wal_usdt", address: newTestAccount().address };
const rules = uniformRules(1_000n * USDT, 10_000n * USDT, 100n * USDT);
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

function transfer(amount: string) {
  return db.pool.transaction((tx) =>
    transferUsdt(tx, rules, alice, `t-${++seq}`, {
      walletId: wallet.id,
      recipientAddress: newTestAccount().address,
      amount,
      route: "V0",
      priority: 0,
      memo: "",
      clientReference: "",
    }),
  );
}

const eventKinds = (id: string, type: string) =>
  db.pool.anyFirst(sql.type(z.object({ kind: z.string().nullable() }))`
    SELECT payload->>'kind' AS kind FROM outbox WHERE subject_id = ${id} AND type = ${type}`);

describe("a USDT transfer is a payout of kind USDT_TRANSFER", () => {
  it("is stored with its kind from the start and waits for approval above the threshold", async () => {
    const row = await transfer("150");
    expect(row.kind).toBe("USDT_TRANSFER");
    expect(row.state).toBe("AWAITING_APPROVAL");
  });

  it("lets exactly one of two approvers at once approve it; the other is told it is no longer waiting", async () => {
    const row = await transfer("150");
    const approve = (principal: string) =>
      db.pool.transaction((tx) => approvePayout(tx, { principal, now: Date.now() }, row.id, "ok"));
    const outcomes = await Promise.allSettled([approve("key:bob"), approve("key:carol")]);
    const ok = outcomes.filter((o) => o.status === "fulfilled");
    const refused = outcomes.flatMap((o) => (o.status === "rejected" ? [reasonOf(o.reason)] : []));
    expect(ok).toHaveLength(1);
    expect(refused).toEqual(["payout.invalid_state"]);
    expect(await eventKinds(row.id, "payout.queued")).toEqual(["USDT_TRANSFER"]);
  });

  it("cancels it before signing, with the event naming its kind", async () => {
    const row = await transfer("150");
    const cancelled = await db.pool.transaction((tx) => cancelPayout(tx, alice, row.id, "no"));
    expect(cancelled.state).toBe("CANCELLED");
    expect(await eventKinds(row.id, "payout.cancelled")).toEqual(["USDT_TRANSFER"]);
  });

  it("requeues it from FAILED when nothing was ever broadcast", async () => {
    const row = await transfer("5");
    await db.pool.query(sql.unsafe`
      UPDATE operations SET state = 'FAILED', failure_reason = 'signer.policy_denied' WHERE id = ${row.id}`);
    const retried = await db.pool.transaction((tx) => retryPayout(tx, rules, alice, row.id));
    expect(retried.state).toBe("QUEUED");
    expect(retried.kind).toBe("USDT_TRANSFER");
    expect(await eventKinds(row.id, "payout.queued")).toEqual(["USDT_TRANSFER"]);
  });

  it("is re-checked by the periodic reconciliation while in flight", async () => {
    const row = await transfer("5");
    await db.pool.query(sql.unsafe`UPDATE operations SET state = 'BROADCAST' WHERE id = ${row.id}`);
    expect(await payoutsToReconcile(db.pool, 86_400_000, 500)).toContain(row.id);
  });

  it("answers payout.not_found for an operation that is not a payout", async () => {
    await db.pool.query(sql.unsafe`
      INSERT INTO operations (id, kind, state, asset, amount, wallet_id, owner_address, created_by, resource)
      VALUES ('op_stake', 'STAKE', 'QUEUED', 'TRX', 1000000, ${wallet.id}, ${wallet.address}, 'key:alice', 'ENERGY')`);
    expect(await fail(db.pool.transaction((tx) => cancelPayout(tx, alice, "op_stake", "x")))).toBe(
      "payout.not_found",
    );
  });
});
