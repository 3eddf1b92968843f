import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WalletPurpose, WalletService } from "../../src/gen/tronpay/v1/wallet_pb.js";
import { reasonOf } from "../../src/shared/errors.js";
import { type Stack, startStack } from "../helpers/stack.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe("wallet backup and restore through the signer", () => {
  it("gives back every wallet with its id and purpose, adding nothing that is already held", async () => {
    const wallets = stack.client(WalletService);
    const payout = (
      await wallets.createWallet({
        idempotencyKey: "w-p",
        label: "p",
        purpose: WalletPurpose.PAYOUT,
      })
    ).wallet;
    const fee = (
      await wallets.createWallet({ idempotencyKey: "w-f", label: "f", purpose: WalletPurpose.FEE })
    ).wallet;
    const { backup, keyCount } = await wallets.backupWallets({});
    expect(keyCount).toBe(2);
    const restored = await wallets.restoreWallets({ idempotencyKey: "r-1", backup });
    expect(restored.addedCount).toBe(0);
    expect(restored.presentCount).toBe(2);
    const byId = new Map(restored.wallets.map((w) => [w.id, w]));
    expect(byId.get(payout?.id ?? "")?.purpose).toBe(WalletPurpose.PAYOUT);
    expect(byId.get(fee?.id ?? "")?.purpose).toBe(WalletPurpose.FEE);
    expect(byId.get(fee?.id ?? "")?.address).toBe(fee?.address);
  });

  it("refuses bytes that are not a backup the signer can read", async () => {
    const err = await stack
      .client(WalletService)
      .restoreWallets({ idempotencyKey: "r-bad", backup: new TextEncoder().encode("not age") })
      .catch((e) => e);
    expect(reasonOf(err)).toBe("request.invalid");
  });
});
