import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Chain, StakingState } from "../../src/core/chain/types.js";
import type { OperationRow } from "../../src/core/engine/repo.js";
import { createBatch, createPayout } from "../../src/core/payouts/flows.js";
import type { PayoutRules } from "../../src/core/payouts/validate.js";
import { createEnergyTopUp, type TopUpSettings } from "../../src/core/staking/topup.js";
import { createLogger } from "../../src/shared/log.js";
import { newTestAccount } from "../devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { payoutInput } from "../helpers/payout-db.js";

// The policy's decision, once per batch, on the real database with every replica racing for
// it; the node is a stand-in that answers the figures the decision reads (and can fail).
let db: TestDatabase;
const payoutWallet = { id: "wal_pay", address: newTestAccount().address };
const stakingWallet = { id: "wal_stake", address: newTestAccount().address };
const USDT = 1_000_000n;
const TRX = 1_000_000n;
const rules: PayoutRules = {
  limits: {
    V0: { maxPerPayout: 1_000n * USDT, maxPerDay: 1_000_000n * USDT },
    KYC: { maxPerPayout: 1_000n * USDT, maxPerDay: 1_000_000n * USDT },
    DIRECT: { maxPerPayout: 1_000n * USDT, maxPerDay: 1_000_000n * USDT },
  },
  approvalThreshold: 1_000n * USDT,
};
const log = createLogger({ name: "test", level: "silent" });

beforeAll(async () => {
  db = await createTestDatabase();
  for (const [w, purpose] of [
    [payoutWallet, "PAYOUT"],
    [stakingWallet, "STAKING"],
  ] as const) {
    await db.pool.query(sql.unsafe`
      INSERT INTO wallets (id, address, label, purpose) VALUES (${w.id}, ${w.address}, 'w', ${purpose})`);
  }
}, 30_000);

afterAll(async () => {
  await db?.drop();
});

/** The node's figures: 10 energy per staked TRX, the payout wallet's energy, the stake to lend. */
function node(o: { energyLeft: bigint; frozen: bigint; fail?: boolean }): Chain {
  const stake: StakingState = {
    balance: 1_000n * TRX,
    frozen: { BANDWIDTH: 0n, ENERGY: o.frozen },
    delegatedOut: { BANDWIDTH: 0n, ENERGY: 0n },
    acquired: { BANDWIDTH: 0n, ENERGY: 0n },
    unfreezes: [],
    totalEnergyLimit: 1_000n,
    totalEnergyWeight: 100n,
  };
  return {
    estimateUsdtTransfer: async () => {
      if (o.fail) throw new Error("node down");
      return { energy: 130_285n, recipientHoldsUsdt: false };
    },
    balances: async () => ({
      trx: 1_000n * TRX,
      usdt: 1_000n * USDT,
      bandwidth: { freeLimit: 600n, freeUsed: 0n, stakedLimit: 0n, stakedUsed: 0n },
      energy: { limit: o.energyLeft, used: 0n },
    }),
    stakingState: async () => stake,
  } as unknown as Chain;
}

const settings: TopUpSettings = {
  stakingWalletId: stakingWallet.id,
  payoutWalletId: "",
  maxSun: 100_000n * TRX,
  cooldownMs: 0,
  waitMs: 60_000,
};

function policy(chain: Chain, patch: Partial<TopUpSettings> = {}) {
  return createEnergyTopUp({
    pool: db.pool,
    chain,
    log,
    settings: { ...settings, ...patch },
    leaseMs: 30_000,
  });
}

let seq = 0;
/** A batch of USDT transfers from the payout wallet, as the engine sees its operations. */
async function batch(items: number): Promise<{ batchId: string; ops: OperationRow[] }> {
  const caller = { principal: "key:alice", now: Date.now() };
  const { batchId, payoutIds } = await db.pool.transaction((tx) =>
    createBatch(
      tx,
      rules,
      caller,
      `b-${++seq}`,
      Array.from({ length: items }, (_, i) => ({
        reference: `r${i}`,
        input: payoutInput(payoutWallet.id),
      })),
    ),
  );
  const ops = payoutIds.map(
    (id) => ({ id, kind: "PAYOUT", asset: "USDT", wallet_id: payoutWallet.id }) as OperationRow,
  );
  return { batchId, ops };
}

const Decision = z.object({
  state: z.string(),
  operation_id: z.string().nullable(),
  amount: z.bigint(),
});
const decisionOf = (batchId: string) =>
  db.pool.one(sql.type(Decision)`
    SELECT state, operation_id, amount FROM energy_topups WHERE batch_id = ${batchId}`);
const delegations = () =>
  db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM operations WHERE kind = 'DELEGATE'`);

describe("energy top-up decisions", () => {
  it("creates exactly one delegation per batch however many replicas ask at once", async () => {
    const before = await delegations();
    const { batchId, ops } = await batch(3);
    const chain = node({ energyLeft: 90_855n, frozen: 1_000_000n * TRX });
    const replicas = [policy(chain), policy(chain), policy(chain)];
    const answers = await Promise.all(replicas.flatMap((gate) => ops.map((op) => gate(op))));
    // Nobody signs while the decision is being made.
    expect(answers.every((a) => a !== undefined)).toBe(true);
    const d = await decisionOf(batchId);
    expect(d.state).toBe("DELEGATED");
    // 3 × 130,285 − 90,855 = 300,000 energy = 30,000 TRX at 10 energy per TRX.
    expect(d.amount).toBe(30_000n * TRX);
    expect(await delegations()).toBe(before + 1);
    const op = await db.pool.one(
      sql.type(
        z.object({
          wallet_id: z.string(),
          counterparty_address: z.string(),
          created_by: z.string(),
        }),
      )`SELECT wallet_id, counterparty_address, created_by FROM operations WHERE id = ${d.operation_id}`,
    );
    expect(op).toEqual({
      wallet_id: stakingWallet.id,
      counterparty_address: payoutWallet.address,
      created_by: "system:energy-policy",
    });
    // Transfers wait while the delegation is on its way, and go once it is confirmed.
    expect(await replicas[0]?.(ops[0] as OperationRow)).toBeGreaterThan(0);
    await db.pool.query(sql.unsafe`
      UPDATE operations SET state = 'CONFIRMED', confirmed_at = now() WHERE id = ${d.operation_id}`);
    expect(await replicas[1]?.(ops[1] as OperationRow)).toBeUndefined();
    expect(await delegations()).toBe(before + 1);
  });

  it("skips a batch the wallet's energy covers, and a delegation inside the cooldown", async () => {
    const covered = await batch(2);
    await policy(node({ energyLeft: 500_000n, frozen: 1_000_000n * TRX }))(
      covered.ops[0] as OperationRow,
    );
    expect((await decisionOf(covered.batchId)).state).toBe("NO_SHORTFALL");
    const cooled = await batch(2);
    const gate = policy(node({ energyLeft: 0n, frozen: 1_000_000n * TRX }), {
      cooldownMs: 3_600_000,
    });
    const before = await delegations();
    await gate(cooled.ops[0] as OperationRow);
    expect((await decisionOf(cooled.batchId)).state).toBe("COOLDOWN");
    expect(await delegations()).toBe(before);
    // Decided: its transfers go at once.
    expect(await gate(cooled.ops[1] as OperationRow)).toBeUndefined();
  });

  it("lets the batch pay when the staking wallet has nothing to lend", async () => {
    const { batchId, ops } = await batch(2);
    const gate = policy(node({ energyLeft: 0n, frozen: 0n }));
    await gate(ops[0] as OperationRow);
    expect(await decisionOf(batchId)).toMatchObject({ state: "NO_STAKE", operation_id: null });
    expect(await gate(ops[1] as OperationRow)).toBeUndefined();
  });

  it("keeps trying while the node fails, then lets the batch pay once its wait is over", async () => {
    const { batchId, ops } = await batch(1);
    const failing = node({ energyLeft: 0n, frozen: 1_000_000n * TRX, fail: true });
    expect(await policy(failing)(ops[0] as OperationRow)).toBeGreaterThan(0);
    expect((await decisionOf(batchId)).state).toBe("PENDING");
    // With the wait over, the failure is recorded and the transfer is signed.
    expect(await policy(failing, { waitMs: 0 })(ops[0] as OperationRow)).toBeUndefined();
    expect((await decisionOf(batchId)).state).toBe("CHAIN_ERROR");
  });

  it("leaves single payouts, TRX payouts and other wallets alone", async () => {
    const gate = policy(node({ energyLeft: 0n, frozen: 1_000_000n * TRX }));
    const { ops } = await batch(1);
    const op = ops[0] as OperationRow;
    expect(await gate({ ...op, asset: "TRX" })).toBeUndefined();
    expect(await gate({ ...op, wallet_id: stakingWallet.id })).toBeUndefined();
    expect(await gate({ ...op, kind: "DELEGATE" })).toBeUndefined();
    const single = await db.pool.transaction((tx) =>
      createPayout(
        tx,
        rules,
        { principal: "key:alice", now: Date.now() },
        "single-1",
        payoutInput(payoutWallet.id),
      ),
    );
    expect(await gate({ ...op, id: single.id })).toBeUndefined();
    const decided = await db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM energy_topups WHERE batch_id = (SELECT batch_id FROM payouts WHERE id = ${op.id})`);
    expect(decided).toBe(0);
  });
});
