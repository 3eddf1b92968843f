import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ENGINE_READ_MAX_AGE_MS } from "../../src/core/engine/deps.js";
import { Resource } from "../../src/gen/tronpay/v1/common_pb.js";
import { PayoutRoute, PayoutService } from "../../src/gen/tronpay/v1/payout_pb.js";
import { StakingService } from "../../src/gen/tronpay/v1/staking_pb.js";
import { UsdtService } from "../../src/gen/tronpay/v1/usdt_pb.js";
import { WalletPurpose, WalletService } from "../../src/gen/tronpay/v1/wallet_pb.js";
import { reasonOf } from "../../src/shared/errors.js";
import { parseAmount } from "../../src/shared/money.js";
import { newTestAccount, TRX, waitFor } from "../devnet/helpers.js";
import { usdtPayout, waitForPayout } from "../helpers/payouts.js";
import { type Stack, startStack } from "../helpers/stack.js";

// Unfreezes wait 5 minutes on this devnet (mainnet: 14 days) so that one clock advance passes
// them while signed transactions stay inside the signer's 10-minute lifetime window; the chain
// accepts 2 pending unfreezes per account instead of 32 so the limit is cheap to reach.
const UNSTAKE_WAIT_MS = 5 * 60_000;

let stack: Stack;
let payer: { id: string; address: string };
let staker: { id: string; address: string };
let spare: { id: string; address: string };
const outsider = newTestAccount().address;

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

async function operationCount(): Promise<number> {
  return stack.db.pool.oneFirst(
    sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM operations`,
  );
}

/** The stable reason of a call that must fail, after checking that nothing was stored. */
async function refused(call: () => Promise<unknown>): Promise<string | undefined> {
  const before = await operationCount();
  const reason = await call().then(
    () => "succeeded",
    (err: unknown) => reasonOf(err),
  );
  expect(await operationCount()).toBe(before);
  return reason;
}

async function stakedEnergy(walletId: string): Promise<bigint> {
  const status = await stack.client(StakingService).getStakingStatus({ walletId });
  const energy = status.staked.find((s) => s.resource === Resource.ENERGY);
  return parseAmount(energy?.amount ?? "0");
}

async function paidUsdt(key: string, walletId: string, to: string, value: string) {
  const { payout } = await stack
    .client(PayoutService)
    .createPayout(usdtPayout(key, walletId, to, value));
  const done = await waitForPayout(stack, payout?.id ?? "");
  expect(done.failureReason).toBe("");
  return done;
}

beforeAll(async () => {
  stack = await startStack({ devnet: { unstakeWaitMs: UNSTAKE_WAIT_MS, maxPendingUnfreezes: 2 } });
  payer = await wallet("payer", WalletPurpose.PAYOUT, 100_000n, 10_000n);
  staker = await wallet("staker", WalletPurpose.STAKING, 100_000n, 0n);
  spare = await wallet("spare", WalletPurpose.PAYOUT, 1_000n, 100n);
  stack.net.solidify();
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

describe("wallets, USDT and staking on the engine (devnet, signer and core processes)", () => {
  let holderBurn = 0n;

  it("shows a funded wallet's TRX and USDT balance", async () => {
    const { balance } = await stack.client(WalletService).getWalletBalance({ id: payer.id });
    expect(balance?.trx).toBe("100000");
    expect(balance?.usdt).toBe("10000");
  });

  it("transfers USDT through UsdtService and lists it from both sides", async () => {
    const usdt = stack.client(UsdtService);
    const { operation, payout } = await usdt.transfer({
      idempotencyKey: "t-1",
      walletId: payer.id,
      toAddress: outsider,
      amount: "5",
      route: PayoutRoute.V0,
    });
    expect(operation?.id).toBe(payout?.id);
    const done = await waitForPayout(stack, payout?.id ?? "");
    expect(done.failureReason).toBe("");
    const txId = done.attempts[0]?.txId;
    for (const address of [payer.address, outsider]) {
      const seen = await waitFor(async () => {
        const { transfers } = await usdt.listTransfers({ address });
        return transfers.find((t) => t.txId === txId);
      }, 20_000);
      expect(seen).toMatchObject({ fromAddress: payer.address, toAddress: outsider, amount: "5" });
    }
    expect((await usdt.getBalance({ address: outsider })).balance).toBe("5");
    const { transactions } = await stack
      .client(WalletService)
      .listWalletTransactions({ id: payer.id });
    expect(transactions.find((t) => t.txId === txId)?.operationId).toBe(payout?.id);
    // A second transfer to the same (now holding) recipient is the baseline for staking.
    holderBurn = parseAmount(
      (await paidUsdt("p-base", payer.id, outsider, "1")).networkCost?.trxBurned ?? "",
    );
    expect(holderBurn).toBeGreaterThan(0n);
  }, 60_000);

  it("approves a spender and reads the allowance back from the chain", async () => {
    const usdt = stack.client(UsdtService);
    const { operation } = await usdt.approve({
      idempotencyKey: "a-1",
      walletId: payer.id,
      spenderAddress: spare.address,
      amount: "7.5",
    });
    expect(operation?.ownerAddress).toBe(payer.address);
    const allowance = await waitFor(async () => {
      const r = await usdt.getAllowance({
        ownerAddress: payer.address,
        spenderAddress: spare.address,
      });
      return r.allowance === "0" ? undefined : r.allowance;
    }, 20_000);
    expect(allowance).toBe("7.5");
  }, 30_000);

  it("stakes TRX for energy, after which a USDT transfer burns less TRX", async () => {
    const { operation } = await stack.client(StakingService).stake({
      idempotencyKey: "s-1",
      walletId: payer.id,
      amount: "20000",
      resource: Resource.ENERGY,
    });
    expect(operation?.amount?.value).toBe("20000");
    await waitFor(async () => ((await stakedEnergy(payer.id)) > 0n ? true : undefined), 20_000);
    const estimate = await stack
      .client(UsdtService)
      .estimateEnergy({ fromAddress: payer.address, toAddress: outsider, amount: "1" });
    expect(estimate.recipientHoldsUsdt).toBe(true);
    expect(estimate.energyAvailable).toBeGreaterThanOrEqual(estimate.energy);
    expect(estimate.trxToBurn).toBe("0");
    const done = await paidUsdt("p-staked", payer.id, outsider, "1");
    expect(parseAmount(done.networkCost?.trxBurned ?? "")).toBeLessThan(holderBurn);
    const status = await stack.client(StakingService).getStakingStatus({ walletId: payer.id });
    // The planner saw the confirmed payouts' energy, and the stake now covers it.
    expect(status.plan?.estimatedDailyEnergy).toBeGreaterThan(0n);
    expect(status.plan?.trxToStake).toBe("0");
  }, 60_000);

  it("delegates energy to the payout wallet, locked, and a payout from it uses that energy", async () => {
    const staking = stack.client(StakingService);
    await staking.stake({
      idempotencyKey: "s-2",
      walletId: staker.id,
      amount: "20000",
      resource: Resource.ENERGY,
    });
    await waitFor(async () => ((await stakedEnergy(staker.id)) > 0n ? true : undefined), 20_000);
    const before = (await paidUsdt("p-spare-1", spare.id, outsider, "1")).networkCost;
    await staking.delegate({
      idempotencyKey: "d-1",
      walletId: staker.id,
      receiverAddress: spare.address,
      resource: Resource.ENERGY,
      amount: "10000",
      lock: true,
      lockPeriod: { seconds: 60n },
    });
    const lent = await waitFor(async () => {
      const s = await staking.getStakingStatus({ walletId: staker.id });
      return s.delegationsOut.find((d) => d.counterpartyAddress === spare.address);
    }, 20_000);
    expect(lent.amount).toBe("10000");
    expect(lent.lockedUntil).toBeDefined();
    const { resources } = await staking.getResources({
      account: { case: "walletId", value: spare.id },
    });
    expect(resources?.delegatedInEnergy).toBe("10000");
    const after = (await paidUsdt("p-spare-2", spare.id, outsider, "1")).networkCost;
    expect(after?.energyUsed).toBe(before?.energyUsed);
    expect(parseAmount(after?.trxBurned ?? "")).toBeLessThan(parseAmount(before?.trxBurned ?? ""));
  }, 90_000);

  it("refuses bad staking and USDT requests with stable reasons and stores nothing", async () => {
    const staking = stack.client(StakingService);
    const usdt = stack.client(UsdtService);
    const e = { resource: Resource.ENERGY };
    expect(
      await refused(() =>
        staking.stake({ idempotencyKey: "x1", walletId: "wal_nope", amount: "1", ...e }),
      ),
    ).toBe("wallet.not_found");
    const badChecksum = `${outsider.slice(0, -1)}${outsider.endsWith("A") ? "B" : "A"}`;
    expect(
      await refused(() =>
        usdt.transfer({
          idempotencyKey: "x2",
          walletId: payer.id,
          toAddress: badChecksum,
          amount: "1",
          route: PayoutRoute.V0,
        }),
      ),
    ).toBe("address.invalid");
    expect(
      await refused(() =>
        staking.stake({ idempotencyKey: "x3", walletId: spare.id, amount: "5000", ...e }),
      ),
    ).toBe("wallet.insufficient_trx");
    expect(
      await refused(() =>
        staking.unstake({ idempotencyKey: "x4", walletId: spare.id, amount: "1", ...e }),
      ),
    ).toBe("staking.insufficient_stake");
    expect(
      await refused(() =>
        staking.delegate({
          idempotencyKey: "x5",
          walletId: staker.id,
          receiverAddress: outsider,
          amount: "1",
          ...e,
        }),
      ),
    ).toBe("staking.receiver_not_own");
    expect(
      await refused(() => staking.withdrawUnstaked({ idempotencyKey: "x6", walletId: payer.id })),
    ).toBe("staking.nothing_to_withdraw");
  }, 30_000);

  it("unstakes up to the chain's pending limit, then withdraws after the waiting period", async () => {
    const staking = stack.client(StakingService);
    const e = { walletId: payer.id, amount: "100", resource: Resource.ENERGY };
    const first = await staking.unstake({ idempotencyKey: "u-1", ...e });
    expect(first.pendingCount).toBe(1);
    expect(first.availableAt).toBeDefined();
    const second = await staking.unstake({ idempotencyKey: "u-2", ...e });
    expect(second.pendingCount).toBe(2);
    // The limit counts unstakes still on their way to the chain, so a third is refused now.
    expect(await refused(() => staking.unstake({ idempotencyKey: "u-3", ...e }))).toBe(
      "staking.too_many_unfreezes",
    );
    await waitFor(async () => {
      const s = await staking.getStakingStatus({ walletId: payer.id });
      return s.pendingUnfreezes.length === 2 ? true : undefined;
    }, 20_000);
    expect(
      await refused(() =>
        staking.withdrawUnstaked({ idempotencyKey: "w-early", walletId: payer.id }),
      ),
    ).toBe("staking.nothing_to_withdraw");
    stack.net.devnet.admin.advanceClock(UNSTAKE_WAIT_MS + 10_000);
    stack.net.solidify();
    // The engine builds on a head block it read within ENGINE_READ_MAX_AGE_MS; one read before
    // the jump would give the withdrawal an expiration already past in the devnet's new time
    // (on a real chain time does not jump), so let that read age out first.
    await new Promise((r) => setTimeout(r, ENGINE_READ_MAX_AGE_MS + 500));
    const trxBefore = (await stack.client(WalletService).getWalletBalance({ id: payer.id })).balance
      ?.trx;
    const w = await staking.withdrawUnstaked({ idempotencyKey: "w-1", walletId: payer.id });
    expect(w.amount).toBe("200");
    const trxAfter = await waitFor(async () => {
      const b = await stack.client(WalletService).getWalletBalance({ id: payer.id });
      return b.balance?.trx !== trxBefore ? b.balance?.trx : undefined;
    }, 20_000);
    // 200 TRX came back; bandwidth may have burned a little.
    const gained = parseAmount(trxAfter ?? "0") - parseAmount(trxBefore ?? "0");
    expect(gained).toBeGreaterThan(199n * TRX);
    expect(gained).toBeLessThanOrEqual(200n * TRX);
  }, 60_000);

  it("loses no transfer and records none twice when core dies mid-scan", async () => {
    const sender = stack.net.fundedAccount(1_000n * TRX, 100n * 1_000_000n);
    // Armed only once the follower has caught up, so that it fires on the transfers below.
    const solid = BigInt(stack.net.devnet.node.chain.solidHeight);
    await waitFor(async () => {
      const at = await stack.db.pool.maybeOneFirst(
        sql.type(z.object({ n: z.bigint() }))`SELECT block_number AS n FROM follower_cursor`,
      );
      return at !== null && at >= solid ? true : undefined;
    }, 60_000);
    stack.coreEnv.TRONPAY_FAILPOINT = "follower_before_commit";
    await stack.restartCore();
    const died = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      stack.core.child.once("exit", (_code, signal) => {
        clearTimeout(timer);
        resolve(signal === "SIGKILL");
      });
    });
    const token = await stack.net
      .tronWeb(sender.privateKey)
      .contract()
      .at(stack.net.devnet.usdtAddress);
    const txIds: string[] = [];
    for (const amount of [1_000_000n, 2_000_000n, 3_000_000n]) {
      txIds.push(await token.transfer(payer.address, amount).send({ feeLimit: 30_000_000 }));
    }
    stack.net.solidify();
    // The follower had recorded a block's transfers and not committed them when it died.
    expect(await died).toBe(true);
    delete stack.coreEnv.TRONPAY_FAILPOINT;
    await stack.restartCore();
    const seen = await waitFor(async () => {
      const usdt = stack.client(UsdtService); // the restarted core listens on a new port
      const { transfers } = await usdt.listTransfers({ address: sender.address });
      return transfers.length >= 3 ? transfers : undefined;
    }, 30_000);
    expect(seen.map((t) => t.txId).sort()).toEqual([...txIds].sort());
    const rows = await stack.db.pool.oneFirst(
      sql.type(z.object({ n: z.number() }))`
        SELECT count(*)::int AS n FROM chain_transfers WHERE tx_id = ANY(${sql.array(txIds, "text")})`,
    );
    expect(rows).toBe(3);
  }, 150_000);
});
