import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeTransaction } from "../tron/transaction.js";
import {
  BandwidthError,
  bandwidthBytes,
  chargeBandwidth,
  chargeEnergy,
  type FeeParams,
  usageAt,
  WINDOW_MS,
} from "./fees.js";
import { type Account, newAccount } from "./state.js";

const P: FeeParams = {
  freeNetLimit: 600n,
  netPerTrx: 1n,
  energyPerTrx: 10n,
  bandwidthPriceSun: 1000n,
  energyPriceSun: 100n,
  createAccountBandwidthFeeSun: 100_000n,
};
const TRX = 1_000_000n;
const NOW = 1_000_000_000;

function account(balance: bigint, stake: Partial<Account["frozen"]> = {}): Account {
  const a = newAccount(0, balance);
  return { ...a, frozen: { ...a.frozen, ...stake } };
}

describe("usageAt", () => {
  it("recovers usage linearly to zero over 24 hours", () => {
    const u = { used: 600n, time: NOW };
    expect(usageAt(u, NOW)).toBe(600n);
    expect(usageAt(u, NOW + WINDOW_MS / 2)).toBe(300n);
    expect(usageAt(u, NOW + WINDOW_MS)).toBe(0n);
  });
});

describe("chargeBandwidth", () => {
  it("uses staked bandwidth first when it covers every byte", () => {
    const c = chargeBandwidth(account(0n, { BANDWIDTH: 1000n * TRX }), 300n, NOW, P, false);
    expect(c).toMatchObject({ netUsage: 300n, netFee: 0n });
    expect(c.account.net.used).toBe(300n);
    expect(c.account.freeNet.used).toBe(0n);
  });

  it("uses the 600 free bytes next, then burns 1,000 sun per byte", () => {
    const first = chargeBandwidth(account(TRX), 300n, NOW, P, false);
    expect(first).toMatchObject({ netUsage: 300n, netFee: 0n });
    const second = chargeBandwidth(first.account, 300n, NOW, P, false);
    expect(second.netFee).toBe(0n);
    const third = chargeBandwidth(second.account, 300n, NOW, P, false);
    expect(third).toMatchObject({ netUsage: 0n, netFee: 300_000n });
    expect(third.account.balance).toBe(TRX - 300_000n);
  });

  it("burns 0.1 TRX instead of using free bandwidth when creating an account", () => {
    const c = chargeBandwidth(account(TRX), 270n, NOW, P, true);
    expect(c).toMatchObject({ netUsage: 0n, netFee: 100_000n });
    expect(c.account.freeNet.used).toBe(0n);
  });

  it("refuses when neither resources nor balance can pay", () => {
    const spent = { ...account(1000n), freeNet: { used: 600n, time: NOW } };
    expect(() => chargeBandwidth(spent, 300n, NOW, P, false)).toThrow(BandwidthError);
  });
});

describe("chargeEnergy", () => {
  it("takes staked energy first and burns the rest at the energy price", () => {
    const c = chargeEnergy(
      account(100n * TRX, { ENERGY: 5000n * TRX }),
      64_285n,
      30n * TRX,
      NOW,
      P,
    );
    expect(c).toMatchObject({ energyUsage: 50_000n, energyFee: 1_428_500n, outOfEnergy: false });
    expect(c.account.balance).toBe(100n * TRX - 1_428_500n);
  });

  it("runs out of energy and burns the whole fee_limit when the fee_limit is too low", () => {
    const c = chargeEnergy(account(100n * TRX), 64_285n, TRX, NOW, P);
    expect(c).toMatchObject({ outOfEnergy: true, energyFee: TRX, energyUsageTotal: 10_000n });
  });

  it("counts staked energy against the fee_limit, as java-tron does", () => {
    const staked = account(100n * TRX, { ENERGY: 10_000n * TRX });
    const c = chargeEnergy(staked, 64_285n, TRX, NOW, P);
    expect(c).toMatchObject({ outOfEnergy: true, energyUsage: 10_000n, energyFee: 0n });
  });

  it("caps the burn by the balance", () => {
    const c = chargeEnergy(account(2n * TRX), 64_285n, 30n * TRX, NOW, P);
    expect(c).toMatchObject({ outOfEnergy: true, energyFee: 2n * TRX });
    expect(c.account.balance).toBe(0n);
  });
});

describe("bandwidthBytes", () => {
  it("equals the encoded signed transaction's size plus 64", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600 }),
        fc.integer({ min: 0, max: 3 }),
        (rawLen, sigs) => {
          const signatures = Array.from({ length: sigs }, () => new Uint8Array(65));
          const encoded = encodeTransaction(new Uint8Array(rawLen), signatures);
          expect(
            bandwidthBytes(
              rawLen,
              signatures.map((s) => s.length),
            ),
          ).toBe(BigInt(encoded.length + 64));
        },
      ),
    );
  });
});
