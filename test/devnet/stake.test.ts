import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestDevnet, type TestNet, TRX } from "./helpers.js";

let net: TestNet;
const DAY_MS = 86_400_000;

beforeAll(async () => {
  net = await startTestDevnet({ energyPerTrx: 10n, unstakeWaitMs: 14 * DAY_MS });
});
afterAll(async () => {
  await net?.stop();
});

const USDT = 1_000_000n;

async function sendUsdt(privateKey: string, to: string, amount: bigint) {
  const tw = net.tronWeb(privateKey);
  const c = await tw.contract().at(net.devnet.usdtAddress);
  const id = await c.transfer(to, amount).send({ feeLimit: 30_000_000 });
  net.solidify();
  return tw.trx.getTransactionInfo(id);
}

async function broadcast(
  privateKey: string,
  build: (tw: ReturnType<TestNet["tronWeb"]>) => Promise<unknown>,
) {
  const tw = net.tronWeb(privateKey);
  const tx = (await build(tw)) as Parameters<typeof tw.trx.sign>[0];
  const res = await tw.trx.sendRawTransaction((await tw.trx.sign(tx)) as never);
  net.solidify();
  return res;
}

describe("devnet Stake 2.0 through unmodified tronweb", () => {
  it("burns less TRX for a USDT transfer after freezing TRX for energy", async () => {
    const a = net.fundedAccount(20_000n * TRX, 100n * USDT);
    const holder = net.fundedAccount(1n * TRX, 1n * USDT);
    const before = await sendUsdt(a.privateKey, holder.address, 1n * USDT);
    expect(before.receipt.energy_fee).toBe(6_428_500);

    const res = await broadcast(a.privateKey, (tw) =>
      tw.transactionBuilder.freezeBalanceV2(10_000_000_000, "ENERGY", a.address),
    );
    expect(res).toMatchObject({ result: true });
    const tw = net.tronWeb();
    const resources = await tw.trx.getAccountResources(a.address);
    expect(resources.EnergyLimit).toBe(100_000);

    const after = await sendUsdt(a.privateKey, holder.address, 1n * USDT);
    expect(after.receipt.energy_usage).toBe(64_285);
    expect(after.receipt.energy_fee).toBeUndefined();
    expect(BigInt(after.fee ?? 0)).toBeLessThan(BigInt(before.fee ?? 0));
    const account = await tw.trx.getAccount(a.address);
    expect(account.frozenV2?.find((f) => f.type === "ENERGY")?.amount).toBe(10_000_000_000);
  });

  it("delegates energy so the receiver's USDT transfer burns no TRX for energy", async () => {
    const staker = net.fundedAccount(20_000n * TRX);
    const receiver = net.fundedAccount(10n * TRX, 5n * USDT);
    await broadcast(staker.privateKey, (tw) =>
      tw.transactionBuilder.freezeBalanceV2(10_000_000_000, "ENERGY", staker.address),
    );
    const res = await broadcast(staker.privateKey, (tw) =>
      tw.transactionBuilder.delegateResource(
        10_000_000_000,
        receiver.address,
        "ENERGY",
        staker.address,
      ),
    );
    expect(res).toMatchObject({ result: true });
    const tw = net.tronWeb();
    expect((await tw.trx.getAccountResources(receiver.address)).EnergyLimit).toBe(100_000);
    const delegated = await tw.trx.getDelegatedResourceV2(staker.address, receiver.address);
    expect(delegated.delegatedResource?.[0]?.frozen_balance_for_energy).toBe(10_000_000_000);

    const holder = net.fundedAccount(1n * TRX, 1n * USDT);
    const info = await sendUsdt(receiver.privateKey, holder.address, 1n * USDT);
    expect(info.receipt.energy_usage).toBe(USDT_HOLDER_ENERGY);
    expect(info.receipt.energy_fee).toBeUndefined();
  });

  it("unfreezes, waits out the unstake period on the devnet clock and withdraws", async () => {
    const a = net.fundedAccount(2_000n * TRX);
    await broadcast(a.privateKey, (tw) =>
      tw.transactionBuilder.freezeBalanceV2(1_000_000_000, "BANDWIDTH", a.address),
    );
    const unfrozen = await broadcast(a.privateKey, (tw) =>
      tw.transactionBuilder.unfreezeBalanceV2(400_000_000, "BANDWIDTH", a.address),
    );
    expect(unfrozen).toMatchObject({ result: true });
    const early = await broadcast(a.privateKey, (tw) =>
      tw.transactionBuilder.withdrawExpireUnfreeze(a.address),
    );
    expect(early).toMatchObject({ code: "CONTRACT_VALIDATE_ERROR" });

    net.devnet.admin.advanceClock(14 * DAY_MS);
    const withdrawn = await broadcast(a.privateKey, (tw) =>
      tw.transactionBuilder.withdrawExpireUnfreeze(a.address),
    );
    expect(withdrawn).toMatchObject({ result: true });
    const balance = BigInt(await net.tronWeb().trx.getBalance(a.address));
    expect(balance).toBe(2_000n * TRX - 1_000n * TRX + 400n * TRX);
  });

  it("keeps a locked delegation until its lock period has passed on the devnet clock", async () => {
    const staker = net.fundedAccount(5_000n * TRX);
    const receiver = net.fundedAccount(1n * TRX);
    await broadcast(staker.privateKey, (tw) =>
      tw.transactionBuilder.freezeBalanceV2(2_000_000_000, "BANDWIDTH", staker.address),
    );
    // 100 blocks of 3 s: a 300 s lock.
    const delegated = await broadcast(staker.privateKey, (tw) =>
      tw.transactionBuilder.delegateResource(
        1_000_000_000,
        receiver.address,
        "BANDWIDTH",
        staker.address,
        true,
        100,
      ),
    );
    expect(delegated).toMatchObject({ result: true });
    const undelegate = (tw: ReturnType<TestNet["tronWeb"]>) =>
      tw.transactionBuilder.undelegateResource(
        1_000_000_000,
        receiver.address,
        "BANDWIDTH",
        staker.address,
      );
    expect(await broadcast(staker.privateKey, undelegate)).toMatchObject({
      code: "CONTRACT_VALIDATE_ERROR",
    });
    net.devnet.admin.advanceClock(300_000);
    expect(await broadcast(staker.privateKey, undelegate)).toMatchObject({ result: true });
    const index = await net.tronWeb().trx.getDelegatedResourceAccountIndexV2(staker.address);
    expect(index.toAccounts ?? []).toEqual([]);
  });

  it("cancels all pending unfreezes back into stake", async () => {
    const a = net.fundedAccount(2_000n * TRX);
    await broadcast(a.privateKey, (tw) =>
      tw.transactionBuilder.freezeBalanceV2(1_000_000_000, "ENERGY", a.address),
    );
    await broadcast(a.privateKey, (tw) =>
      tw.transactionBuilder.unfreezeBalanceV2(300_000_000, "ENERGY", a.address),
    );
    const tw = net.tronWeb();
    expect((await tw.trx.getAccount(a.address)).unfrozenV2?.[0]?.unfreeze_amount).toBe(300_000_000);
    expect((await tw.trx.getAvailableUnfreezeCount(a.address)).count).toBe(31);
    const res = await broadcast(a.privateKey, (t) =>
      t.transactionBuilder.cancelUnfreezeBalanceV2(a.address),
    );
    expect(res).toMatchObject({ result: true });
    const account = await tw.trx.getAccount(a.address);
    expect(account.unfrozenV2 ?? []).toEqual([]);
    expect(account.frozenV2?.find((f) => f.type === "ENERGY")?.amount).toBe(1_000_000_000);
  });
});

const USDT_HOLDER_ENERGY = 64_285;
