import { describe, expect, it } from "vitest";
import { planEnergy, topUpDelegation } from "./plan.js";

const WEEK = 7 * 86_400_000;
// Mainnet-like figures: 100 sun per energy unit; 10 energy per staked TRX.
const chain = {
  stakedDailyEnergy: 0n,
  totalEnergyLimit: 1_000n,
  totalEnergyWeight: 100n,
  energyFeeSun: 100n,
};

describe("planEnergy", () => {
  it("asks to stake enough TRX to cover the average daily energy of the lookback", () => {
    // 7 USDT transfers of 64,285 energy over a week, all burned: one per day.
    const plan = planEnergy({ energy: 7n * 64_285n, burned: 7n * 6_428_500n }, WEEK, chain);
    expect(plan.estimatedDailyEnergy).toBe(64_285n);
    expect(plan.burnedPerDaySun).toBe(6_428_500n);
    expect(plan.trxToStakeSun).toBe(6_428_500_000n); // 6,428.5 TRX at 10 energy per TRX
    expect(plan.savingsPerDaySun).toBe(6_428_500n);
  });

  it("asks for nothing when the stake already covers the need", () => {
    const plan = planEnergy({ energy: 70_000n, burned: 0n }, WEEK, {
      ...chain,
      stakedDailyEnergy: 20_000n,
    });
    expect(plan.trxToStakeSun).toBe(0n);
    expect(plan.savingsPerDaySun).toBe(0n);
  });

  it("never promises to save more than was burned", () => {
    // The need is 10,000 a day but half was already paid by stake that expired since.
    const plan = planEnergy({ energy: 70_000n, burned: 3_500_000n }, WEEK, chain);
    expect(plan.trxToStakeSun).toBe(1_000_000_000n);
    expect(plan.savingsPerDaySun).toBe(500_000n);
  });
});

describe("topUpDelegation", () => {
  const base = {
    totalEnergyLimit: 1_000n,
    totalEnergyWeight: 100n, // 10 energy per staked TRX
    lendableSun: 1_000_000n * 1_000_000n,
    maxSun: 100_000n * 1_000_000n,
  };

  it("delegates the whole TRX whose energy covers the shortfall", () => {
    // Five transfers to holders, 64,285 energy each, and 100,000 energy left.
    const d = topUpDelegation({ ...base, estimatedEnergy: 321_425n, availableEnergy: 100_000n });
    expect(d.shortfall).toBe(221_425n);
    // 22,142.5 TRX of stake gives that much energy; rounded up to whole TRX.
    expect(d.amountSun).toBe(22_143_000_000n);
  });

  it("delegates nothing when the wallet's energy already covers the batch", () => {
    const d = topUpDelegation({ ...base, estimatedEnergy: 64_285n, availableEnergy: 64_285n });
    expect(d).toEqual({ shortfall: 0n, amountSun: 0n });
  });

  it("caps the delegation at the configured maximum and at the lendable stake", () => {
    const need = { estimatedEnergy: 10_000_000n, availableEnergy: 0n };
    expect(topUpDelegation({ ...base, ...need }).amountSun).toBe(base.maxSun);
    const lendable = 2_500_000n; // 2.5 TRX
    expect(topUpDelegation({ ...base, ...need, lendableSun: lendable }).amountSun).toBe(lendable);
  });

  it("delegates nothing when less than 1 TRX could be lent", () => {
    const d = topUpDelegation({
      ...base,
      estimatedEnergy: 64_285n,
      availableEnergy: 0n,
      lendableSun: 999_999n,
    });
    expect(d.shortfall).toBe(64_285n);
    expect(d.amountSun).toBe(0n);
  });
});
