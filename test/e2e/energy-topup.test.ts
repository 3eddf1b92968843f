import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { topUpDelegation } from "../../src/core/staking/plan.js";
import { Asset, Resource } from "../../src/gen/tronpay/v1/common_pb.js";
import {
  type Payout,
  PayoutBatchState,
  PayoutRoute,
  PayoutService,
} from "../../src/gen/tronpay/v1/payout_pb.js";
import { EnergyTopUpOutcome, StakingService } from "../../src/gen/tronpay/v1/staking_pb.js";
import { WalletPurpose, WalletService } from "../../src/gen/tronpay/v1/wallet_pb.js";
import { formatAmount, parseAmount } from "../../src/shared/money.js";
import { newTestAccount, TRX, waitFor } from "../devnet/helpers.js";
import { type Stack, startStack } from "../helpers/stack.js";

// The energy top-up policy against the devnet, signer and core processes: a batch whose USDT
// transfers need more energy than the payout wallet has gets ONE delegation from the staking
// wallet, confirmed before the transfers are signed, and the transfers burn less TRX; without
// stake to lend the batch pays anyway. Every recipient is new to USDT (130,285 energy each on
// the devnet), so the batches cost the same apart from the policy.
const ITEMS = 4;
let stack: Stack;
let payout: { id: string; address: string };
let staker: { id: string; address: string };
let emptyStaker: { id: string; address: string };

async function wallet(label: string, purpose: WalletPurpose, trx: bigint, usdt: bigint) {
  const { wallet: w } = await stack.client(WalletService).createWallet({
    idempotencyKey: `w-${label}`,
    label,
    purpose,
  });
  if (!w) throw new Error("no wallet");
  stack.net.devnet.admin.fund(w.address, { trx: trx * TRX, usdt: usdt * 1_000_000n });
  return { id: w.id, address: w.address };
}

function batchRequest(key: string) {
  return {
    idempotencyKey: key,
    items: Array.from({ length: ITEMS }, (_, i) => ({
      itemReference: `${key}-${i}`,
      walletId: payout.id,
      recipient: { case: "recipientAddress" as const, value: newTestAccount().address },
      amount: { asset: Asset.USDT, value: "1" },
      route: PayoutRoute.V0,
    })),
  };
}

/** Waits for the batch to close and returns its payouts. */
async function paidBatch(batchId: string): Promise<Payout[]> {
  const state = await waitFor(async () => {
    const { batch } = await stack.client(PayoutService).getPayoutBatch({ id: batchId });
    return batch &&
      batch.state !== PayoutBatchState.PROCESSING &&
      batch.state !== PayoutBatchState.OPEN
      ? batch.state
      : undefined;
  }, 120_000);
  expect(PayoutBatchState[state]).toBe("COMPLETED");
  const { payouts } = await stack.client(PayoutService).listPayouts({ batchId });
  expect(payouts).toHaveLength(ITEMS);
  return payouts;
}

interface Receipt {
  fee: bigint;
  energyFee: bigint;
  energyUsed: bigint;
  block: bigint;
}

/** The devnet's receipt of each payout's one transaction (solidified). */
async function receipts(payouts: Payout[]): Promise<Receipt[]> {
  const tw = stack.net.tronWeb();
  return Promise.all(
    payouts.map(async (p) => {
      expect(p.attempts).toHaveLength(1);
      const info = await tw.trx.getTransactionInfo(p.attempts[0]?.txId ?? "");
      return {
        fee: BigInt(info.fee ?? 0),
        energyFee: BigInt(info.receipt?.energy_fee ?? 0),
        energyUsed: BigInt(info.receipt?.energy_usage_total ?? 0),
        block: BigInt(info.blockNumber),
      };
    }),
  );
}

const sum = (rs: Receipt[], f: (r: Receipt) => bigint) => rs.reduce((s, r) => s + f(r), 0n);

const TopUp = z.object({
  state: z.string(),
  operation_id: z.string().nullable(),
  estimated_energy: z.bigint().nullable(),
  available_energy: z.bigint().nullable(),
  amount: z.bigint(),
});

async function topUpOf(batchId: string) {
  return stack.db.pool.maybeOne(sql.type(TopUp)`
    SELECT state, operation_id, estimated_energy, available_energy, amount
    FROM energy_topups WHERE batch_id = ${batchId}`);
}

async function policyDelegations(): Promise<number> {
  return stack.db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM operations WHERE kind = 'DELEGATE' AND created_by = 'system:energy-policy'`);
}

async function restartWithPolicy(stakingWalletId: string, payoutWalletId: string) {
  Object.assign(stack.coreEnv, {
    TRONPAY_ENERGY_TOPUP_STAKING_WALLET: stakingWalletId,
    TRONPAY_ENERGY_TOPUP_PAYOUT_WALLET: payoutWalletId,
    TRONPAY_ENERGY_TOPUP_COOLDOWN_SEC: "0",
    TRONPAY_ENERGY_TOPUP_WAIT_SEC: "120",
  });
  await stack.restartCore();
}

beforeAll(async () => {
  stack = await startStack();
  payout = await wallet("payouts", WalletPurpose.PAYOUT, 10_000n, 10_000n);
  staker = await wallet("staker", WalletPurpose.STAKING, 200_000n, 0n);
  emptyStaker = await wallet("empty-staker", WalletPurpose.STAKING, 1_000n, 0n);
  stack.net.solidify();
  await stack.client(StakingService).stake({
    idempotencyKey: "stake-1",
    walletId: staker.id,
    amount: "150000",
    resource: Resource.ENERGY,
  });
  await waitFor(async () => {
    const { resources } = await stack
      .client(StakingService)
      .getResources({ account: { case: "walletId", value: staker.id } });
    return resources?.stakedForEnergy === "150000" ? true : undefined;
  }, 30_000);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

describe("energy top-up policy", () => {
  let withoutPolicy: Receipt[] = [];

  it("is off by default: a batch burns TRX for all its energy and nothing is delegated", async () => {
    const status = await stack.client(StakingService).getStakingStatus({ walletId: staker.id });
    expect(status.energyTopUp?.enabled).toBe(false);
    const { batch } = await stack.client(PayoutService).createPayoutBatch(batchRequest("off"));
    withoutPolicy = await receipts(await paidBatch(batch?.id ?? ""));
    expect(withoutPolicy.every((r) => r.energyFee > 0n)).toBe(true);
    expect(await topUpOf(batch?.id ?? "")).toBeNull();
    expect(await policyDelegations()).toBe(0);
  }, 180_000);

  it("never blocks a batch: without stake to lend it records NO_STAKE and the batch pays", async () => {
    // Default payout wallet: the first PAYOUT-purpose wallet, ours.
    await restartWithPolicy(emptyStaker.id, "");
    const { batch } = await stack.client(PayoutService).createPayoutBatch(batchRequest("no-stake"));
    const paid = await receipts(await paidBatch(batch?.id ?? ""));
    expect(paid.every((r) => r.energyFee > 0n)).toBe(true);
    const decision = await topUpOf(batch?.id ?? "");
    expect(decision?.state).toBe("NO_STAKE");
    expect(decision?.operation_id).toBeNull();
    expect(await policyDelegations()).toBe(0);
    const events = await stack.db.pool.anyFirst(sql.type(z.object({ type: z.string() }))`
      SELECT type FROM outbox WHERE subject_id = ${batch?.id ?? ""} AND type LIKE 'energy.%'`);
    expect(events).toEqual(["energy.topup_skipped"]);
  }, 180_000);

  it("delegates once before a batch that needs more energy than the payout wallet has, and the batch burns less", async () => {
    await restartWithPolicy(staker.id, payout.id);
    const request = batchRequest("topped-up");
    const { batch } = await stack.client(PayoutService).createPayoutBatch(request);
    const batchId = batch?.id ?? "";
    const payouts = await paidBatch(batchId);
    const paid = await receipts(payouts);

    // One decision, one DELEGATE operation from the staking wallet to the payout wallet.
    const decision = await topUpOf(batchId);
    expect(decision?.state).toBe("DELEGATED");
    expect(await policyDelegations()).toBe(1);
    // The estimate is what the transfers really used; the amount is its TRX at the chain's rate.
    expect(decision?.estimated_energy).toBe(sum(paid, (r) => r.energyUsed));
    const { resources } = await stack
      .client(StakingService)
      .getResources({ account: { case: "walletId", value: payout.id } });
    const params = await stack.net.tronWeb().trx.getAccountResources(staker.address);
    const expected = topUpDelegation({
      estimatedEnergy: decision?.estimated_energy ?? 0n,
      availableEnergy: decision?.available_energy ?? 0n,
      totalEnergyLimit: BigInt(params.TotalEnergyLimit ?? 0),
      totalEnergyWeight: BigInt(params.TotalEnergyWeight ?? 0),
      lendableSun: 150_000n * TRX,
      maxSun: 100_000n * TRX,
    });
    expect(decision?.amount).toBe(expected.amountSun);
    expect(parseAmount(resources?.delegatedInEnergy ?? "0")).toBe(decision?.amount);

    const operationId = decision?.operation_id ?? "";
    const delegationBlock = await stack.db.pool.oneFirst(sql.type(z.object({ b: z.bigint() }))`
      SELECT block_number AS b FROM attempts WHERE operation_id = ${operationId} AND state = 'INCLUDED'`);
    // Confirmed before any transfer of the batch was included, so none burned for energy.
    expect(paid.every((r) => r.block > delegationBlock)).toBe(true);
    expect(paid.every((r) => r.energyFee === 0n)).toBe(true);
    expect(sum(paid, (r) => r.fee)).toBeLessThan(sum(withoutPolicy, (r) => r.fee));
    console.log(
      `energy top-up: delegated ${formatAmount(decision?.amount ?? 0n)} TRX for ${decision?.estimated_energy} energy; ` +
        `the batch burned ${formatAmount(sum(paid, (r) => r.fee))} TRX, ` +
        `${formatAmount(sum(withoutPolicy, (r) => r.fee))} TRX without the policy`,
    );

    // The same batch submitted again (same key): the stored batch, and no second delegation.
    const again = await stack.client(PayoutService).createPayoutBatch(request);
    expect(again.batch?.id).toBe(batchId);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await policyDelegations()).toBe(1);

    // GetStakingStatus reports the policy and its last top-up.
    const status = await stack.client(StakingService).getStakingStatus({ walletId: staker.id });
    expect(status.energyTopUp?.enabled).toBe(true);
    expect(status.energyTopUp?.payoutWalletId).toBe(payout.id);
    expect(status.energyTopUp?.lastTopUp?.batchId).toBe(batchId);
    expect(status.energyTopUp?.lastTopUp?.outcome).toBe(EnergyTopUpOutcome.DELEGATED);
    expect(status.energyTopUp?.lastTopUp?.operationId).toBe(operationId);
    expect(parseAmount(status.energyTopUp?.lastTopUp?.amount ?? "0")).toBe(decision?.amount);
    const lent = status.delegationsOut.find((d) => d.counterpartyAddress === payout.address);
    expect(parseAmount(lent?.amount ?? "0")).toBe(decision?.amount);
  }, 180_000);
});
