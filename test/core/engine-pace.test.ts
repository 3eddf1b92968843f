import { randomBytes } from "node:crypto";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { BlockTransfers, Chain, TxInfo } from "../../src/core/chain/types.js";
import type { EngineDeps, EngineSettings } from "../../src/core/engine/deps.js";
import { claimDue, type OperationRow, transition } from "../../src/core/engine/repo.js";
import { settleAttempt as follow } from "../../src/core/engine/settle.js";
import { startFollower } from "../../src/core/incoming/scanner.js";
import { createLogger } from "../../src/shared/log.js";
import { newTestAccount } from "../devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

const log = createLogger({ name: "t", level: "silent" });
const owner = newTestAccount().address;
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(sql.unsafe`
    INSERT INTO wallets (id, address, label, purpose) VALUES ('wal_p', ${owner}, 'p', 'PAYOUT')`);
});
afterAll(async () => {
  await db?.drop();
});

const settings: EngineSettings = {
  lifetimeMs: 60_000,
  replacementMarginMs: 1_000,
  expiryMarginMs: 1_000,
  rebroadcastMs: 60_000,
  followMs: 60_000,
  holdRecheckMs: 1_000,
  maxAttempts: 5,
  feeLimitSun: 30_000_000n,
  leaseMs: 30_000,
};

const txIdOf = () => randomBytes(32).toString("hex");

/** A payout operation in `state` (optionally in a batch), with its payouts row. */
async function insertPayout(
  id: string,
  state: string,
  batch?: { id: string; index: number },
): Promise<OperationRow> {
  await db.pool.query(sql.unsafe`
    INSERT INTO operations (id, kind, state, asset, amount, wallet_id, owner_address, counterparty_address, created_by)
    VALUES (${id}, 'PAYOUT', ${state}, 'TRX', 1, 'wal_p', ${owner}, ${newTestAccount().address}, 't')`);
  await db.pool.query(sql.unsafe`
    INSERT INTO payouts (id, principal, idempotency_key, route, batch_id, batch_index)
    VALUES (${id}, 't', ${batch ? null : id}, 'V0', ${batch?.id ?? null}, ${batch?.index ?? null})`);
  const rows = await db.pool.any(sql.type(z.object({ id: z.string() }))`
    SELECT id FROM operations WHERE id = ${id}`);
  expect(rows).toHaveLength(1);
  return {
    id,
    kind: "PAYOUT",
    state: state as OperationRow["state"],
    asset: "TRX",
    amount: 1n,
    wallet_id: "wal_p",
    owner_address: owner,
    counterparty_address: "",
    resource: null,
    lock_period_blocks: 0n,
    memo: "",
    priority: 2,
    hold_reason: null,
    next_run_at: 0,
  };
}

async function insertAttempt(opId: string, txId: string, expiration: number): Promise<void> {
  await db.pool.query(sql.unsafe`
    INSERT INTO attempts (operation_id, attempt_no, tx_id, raw_data, signature, expiration, state,
                          broadcast_count, last_broadcast_at)
    VALUES (${opId}, 1, ${txId}, ${sql.binary(Buffer.from([1]))}, ${sql.binary(Buffer.alloc(65))},
            'epoch'::timestamptz + ${expiration} * interval '1 millisecond', 'BROADCAST', 1, now())`);
}

const Batch = z.object({
  state: z.string(),
  confirmed_count: z.number(),
  failed_count: z.number(),
  cancelled_count: z.number(),
});
const batchRow = (id: string) =>
  db.pool.one(sql.type(Batch)`
    SELECT state, confirmed_count, failed_count, cancelled_count FROM payout_batches WHERE id = ${id}`);
const completions = (id: string) =>
  db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM outbox WHERE type = 'batch.completed' AND subject_id = ${id}`);

describe("batch completion counted by the state transitions", () => {
  it("closes a batch exactly once when its payouts finish concurrently", async () => {
    const n = 40;
    await db.pool.query(sql.unsafe`
      INSERT INTO payout_batches (id, principal, idempotency_key, item_count) VALUES ('bat_c', 't', 'bat_c', ${n})`);
    const ops = [];
    for (let i = 0; i < n; i++)
      ops.push(await insertPayout(`po_c${i}`, "BROADCAST", { id: "bat_c", index: i }));
    // Every payout finishes in its own transaction, all at once (the pool has 10 connections).
    await Promise.all(
      ops.map((op, i) =>
        db.pool.transaction((tx) =>
          i % 8 === 0
            ? transition(tx, op, "BROADCAST", "FAILED", { failureReason: "chain.revert" }, "t")
            : transition(tx, op, "BROADCAST", "CONFIRMED", { confirmed: true }, "t"),
        ),
      ),
    );
    const failed = ops.filter((_, i) => i % 8 === 0).length;
    expect(await batchRow("bat_c")).toEqual({
      state: "PARTIALLY_FAILED",
      confirmed_count: n - failed,
      failed_count: failed,
      cancelled_count: 0,
    });
    expect(await completions("bat_c")).toBe(1);
  });

  it("counts a change made outside the engine (an operator retry) too", async () => {
    await db.pool.query(sql.unsafe`
      INSERT INTO payout_batches (id, principal, idempotency_key, item_count) VALUES ('bat_r', 't', 'bat_r', 2)`);
    const a = await insertPayout("po_r0", "BROADCAST", { id: "bat_r", index: 0 });
    const b = await insertPayout("po_r1", "BROADCAST", { id: "bat_r", index: 1 });
    await db.pool.transaction((tx) =>
      transition(tx, a, "BROADCAST", "FAILED", { failureReason: "chain.revert" }, "t"),
    );
    expect((await batchRow("bat_r")).state).toBe("PROCESSING");
    // The retry path writes its own UPDATE (payouts/retry.ts); the trigger still counts it.
    await db.pool.query(sql.unsafe`
      UPDATE operations SET state = 'BROADCAST', failure_reason = NULL WHERE id = 'po_r0'`);
    expect((await batchRow("bat_r")).failed_count).toBe(0);
    await db.pool.transaction((tx) =>
      transition(tx, a, "BROADCAST", "CONFIRMED", { confirmed: true }, "t"),
    );
    await db.pool.transaction((tx) =>
      transition(tx, b, "BROADCAST", "CONFIRMED", { confirmed: true }, "t"),
    );
    expect(await batchRow("bat_r")).toEqual({
      state: "COMPLETED",
      confirmed_count: 2,
      failed_count: 0,
      cancelled_count: 0,
    });
    expect(await completions("bat_r")).toBe(1);
  });
});

function receipt(txId: string, block: bigint, result = "SUCCESS"): TxInfo {
  return {
    txId,
    blockNumber: block,
    blockTime: 1_800_000_000_000 + Number(block) * 3_000,
    result,
    feeSun: 1_100_000n,
    energyUsed: 0n,
    energyFeeSun: 0n,
    netUsed: 268n,
    netFeeSun: 100_000n,
  };
}

/**
 * A node whose solidified blocks hold the given transactions (receipts by block), and which
 * counts per-transaction questions: the engine should not ask them while the follower keeps up.
 */
function fakeChain(chain: {
  solid: bigint;
  blocks: Map<bigint, TxInfo[]>;
  byId?: Map<string, TxInfo>;
}) {
  const asked = { txInfo: 0, solidified: 0 };
  const timeOf = (n: bigint) => 1_800_000_000_000 + Number(n) * 3_000;
  const c = {
    solidified: async () => {
      asked.solidified++;
      return { number: chain.solid, id: "", timestamp: timeOf(chain.solid) };
    },
    blockTransfers: async (n: bigint): Promise<BlockTransfers | undefined> => {
      if (n > chain.solid) return undefined;
      const receipts = chain.blocks.get(n) ?? [];
      return {
        block: {
          number: n,
          id: "",
          timestamp: timeOf(n),
          parentId: "",
          witness: "",
          transactionCount: receipts.length,
        },
        transfers: [],
        receipts,
      };
    },
    transactionInfo: async (txId: string, from: "head" | "solidified") => {
      asked.txInfo++;
      return from === "solidified" ? chain.byId?.get(txId) : undefined;
    },
    broadcast: async () => ({ outcome: "accepted" as const }),
  } as unknown as Chain;
  return { chain: c, asked, state: chain };
}

function engineDeps(chain: Chain, clock: () => number = Date.now): EngineDeps {
  return {
    pool: db.pool,
    chain,
    signer: {} as EngineDeps["signer"],
    log,
    clock,
    isPaused: async () => false,
    settings,
  };
}

const broadcasts = (txId: string) =>
  db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT broadcast_count AS n FROM attempts WHERE tx_id = ${txId}`);

describe("the engine's clock", () => {
  it("rebroadcasts the same bytes only once its clock is rebroadcastMs past the last send", async () => {
    await db.pool.query(sql.unsafe`DELETE FROM follower_cursor`);
    const op = await insertPayout("po_clock", "BROADCAST");
    const txId = txIdOf();
    await insertAttempt(op.id, txId, 1_800_000_000_000 + 3_600_000);
    // The solidified head is before the expiration and nothing is in a block: rebroadcast is
    // decided by the time since the last send alone.
    const net = fakeChain({ solid: 1n, blocks: new Map() });
    const sent = Date.now();
    await follow(
      engineDeps(net.chain, () => sent + settings.rebroadcastMs - 1_000),
      op,
    );
    expect(await broadcasts(txId)).toBe(1);
    await follow(
      engineDeps(net.chain, () => sent + settings.rebroadcastMs + 1_000),
      op,
    );
    expect(await broadcasts(txId)).toBe(2);
    expect((await opRow(op.id)).state).toBe("BROADCAST");
  });
});

const Op = z.object({ state: z.string(), fee_sun: z.bigint().nullable(), due: z.boolean() });
const opRow = (id: string) =>
  db.pool.one(sql.type(Op)`
    SELECT state, fee_sun, next_run_at <= now() AS due FROM operations WHERE id = ${id}`);
const attemptState = (txId: string) =>
  db.pool.oneFirst(sql.type(z.object({ state: z.string() }))`
    SELECT state FROM attempts WHERE tx_id = ${txId}`);

describe("inclusion learned from the follower's blocks", () => {
  it("confirms from the receipt the follower recorded, with no question about the transaction", async () => {
    await db.pool.query(sql.unsafe`DELETE FROM follower_cursor`);
    const op = await insertPayout("po_in", "BROADCAST");
    const txId = txIdOf();
    await insertAttempt(op.id, txId, Date.now() + 60_000);
    await db.pool.query(
      sql.unsafe`UPDATE operations SET next_run_at = now() + interval '1 hour' WHERE id = ${op.id}`,
    );
    const blocks = new Map<bigint, TxInfo[]>([[12n, [receipt(txIdOf(), 12n), receipt(txId, 12n)]]]);
    const net = fakeChain({ solid: 10n, blocks });
    const follower = startFollower({
      pool: db.pool,
      chain: net.chain,
      log,
      pollMs: 60_000,
      autostart: false,
    });
    await follower.round(); // places the cursor at 10
    net.state.solid = 14n; // the block with the transaction solidifies
    expect(await follower.round()).toBe(4);
    // The follower woke the operation: it is due now, not in an hour.
    expect((await opRow(op.id)).due).toBe(true);
    const [claimed] = await claimDue(db.pool, 10, 30_000);
    expect(claimed?.id).toBe(op.id);
    await follow(engineDeps(net.chain), claimed as OperationRow);
    expect(await opRow(op.id)).toMatchObject({ state: "CONFIRMED", fee_sun: 1_100_000n });
    expect(await attemptState(txId)).toBe("INCLUDED");
    expect(net.asked.txInfo).toBe(0);
  });

  it("asks the node about a transaction missing from the recorded blocks once they pass its expiration", async () => {
    await db.pool.query(sql.unsafe`DELETE FROM follower_cursor`);
    const expiration = 1_800_000_000_000 + 20 * 3_000;
    // One attempt expired unincluded; one was included in a block scanned before receipts were
    // recorded (an upgrade), so only the node knows it.
    const lost = await insertPayout("po_lost", "BROADCAST");
    const lostTx = txIdOf();
    await insertAttempt(lost.id, lostTx, expiration);
    const old = await insertPayout("po_old", "BROADCAST");
    const oldTx = txIdOf();
    await insertAttempt(old.id, oldTx, expiration);
    const net = fakeChain({
      solid: 15n,
      blocks: new Map(),
      byId: new Map([[oldTx, receipt(oldTx, 14n)]]),
    });
    const follower = startFollower({
      pool: db.pool,
      chain: net.chain,
      log,
      pollMs: 60_000,
      autostart: false,
    });
    await follower.round();
    net.state.solid = 18n;
    await follower.round();
    // Not yet past expiration + margin: nothing is decided and the node is not asked.
    await follow(engineDeps(net.chain), lost);
    expect((await opRow(lost.id)).state).toBe("BROADCAST");
    expect(net.asked.txInfo).toBe(0);
    net.state.solid = 30n;
    await follower.round();
    await follow(engineDeps(net.chain), lost);
    await follow(engineDeps(net.chain), old);
    expect(await attemptState(lostTx)).toBe("EXPIRED");
    expect((await opRow(lost.id)).state).toBe("QUEUED");
    expect(await attemptState(oldTx)).toBe("INCLUDED");
    expect((await opRow(old.id)).state).toBe("CONFIRMED");
  });
});
