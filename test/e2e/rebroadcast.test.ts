import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Asset } from "../../src/gen/tronpay/v1/common_pb.js";
import { PayoutRoute, PayoutService, PayoutState } from "../../src/gen/tronpay/v1/payout_pb.js";
import { WalletPurpose, WalletService } from "../../src/gen/tronpay/v1/wallet_pb.js";
import { newTestAccount, TRX, waitFor } from "../devnet/helpers.js";
import { type Stack, startStack } from "../helpers/stack.js";

/**
 * A transaction in a block that is not solidified yet is not broadcast again: the engine
 * follows it until it is solidified. Blocks every 100 ms and a lag of 40 blocks give ~4 s
 * between inclusion and solidification, against a rebroadcast interval of 250 ms.
 */
const BLOCK_MS = 100;
const SOLID_LAG = 40;
const REBROADCAST_MS = 250;
let stack: Stack;
let walletId = "";

beforeAll(async () => {
  stack = await startStack({
    devnet: { blockTimeMs: BLOCK_MS, solidLag: SOLID_LAG },
    coreEnv: { TRONPAY_REBROADCAST_MS: String(REBROADCAST_MS) },
  });
  const { wallet } = await stack.client(WalletService).createWallet({
    idempotencyKey: "w1",
    label: "payouts",
    purpose: WalletPurpose.PAYOUT,
  });
  walletId = wallet?.id ?? "";
  stack.net.devnet.admin.fund(wallet?.address ?? "", { trx: 1_000n * TRX });
  stack.net.solidify();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe("following a transaction until it is solidified", () => {
  it("does not rebroadcast a transaction that is already in a block", async () => {
    const payouts = stack.client(PayoutService);
    const { payout } = await payouts.createPayout({
      idempotencyKey: "p-1",
      walletId,
      recipient: { case: "recipientAddress", value: newTestAccount().address },
      amount: { asset: Asset.TRX, value: "2" },
      route: PayoutRoute.V0,
    });
    const done = await waitFor(async () => {
      const { payout: p } = await payouts.getPayout({ id: payout?.id ?? "" });
      return p && [PayoutState.CONFIRMED, PayoutState.FAILED].includes(p.state) ? p : undefined;
    }, 60_000);
    expect(PayoutState[done.state]).toBe("CONFIRMED");
    const [attempt] = done.attempts;
    // Waiting for solidification took many rebroadcast intervals; none of them sent the bytes
    // again (a second send is allowed only if the first follow ran before the next block).
    const waitedIntervals = Math.floor((SOLID_LAG * BLOCK_MS) / REBROADCAST_MS);
    expect(waitedIntervals).toBeGreaterThan(4);
    expect(attempt?.broadcastCount).toBeGreaterThanOrEqual(1);
    expect(attempt?.broadcastCount).toBeLessThanOrEqual(2);
    expect(attempt?.lastBroadcastError).toBe("");
  }, 90_000);
});
