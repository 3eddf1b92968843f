import { describe, expect, it } from "vitest";
import { planEnergy } from "./plan.js";

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
