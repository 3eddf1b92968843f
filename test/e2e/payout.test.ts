import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { Asset } from "../../src/gen/tronpay/v1/common_pb.js";
import { PayoutRoute, PayoutService, PayoutState } from "../../src/gen/tronpay/v1/payout_pb.js";
import { WalletPurpose, WalletService } from "../../src/gen/tronpay/v1/wallet_pb.js";
import { reasonOf } from "../../src/shared/errors.js";
import { newTestAccount, TRX, waitFor } from "../devnet/helpers.js";
import { type Stack, startStack } from "../helpers/stack.js";

let stack: Stack;
let walletId: string;
let walletAddress: string;

beforeAll(async () => {
  stack = await startStack();
  const wallets = stack.client(WalletService);
  const { wallet } = await wallets.createWallet({
    idempotencyKey: "w1",
    label: "payouts",
    purpose: WalletPurpose.PAYOUT,
  });
  walletId = wallet?.id ?? "";
  walletAddress = wallet?.address ?? "";
  stack.net.devnet.admin.fund(walletAddress, { trx: 10_000n * TRX, usdt: 1_000n * 1_000_000n });
  stack.net.solidify();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

async function waitForState(id: string, states: PayoutState[], ms = 30_000) {
  const payouts = stack.client(PayoutService);
  return waitFor(async () => {
    const { payout } = await payouts.getPayout({ id });
    return payout && states.includes(payout.state) ? payout : undefined;
  }, ms);
}

describe("a payout end to end (devnet, signer and core processes)", () => {
  it("goes QUEUED → SIGNED → BROADCAST → CONFIRMED and moves USDT exactly once", async () => {
    const payouts = stack.client(PayoutService);
    const to = newTestAccount().address;
    const { payout } = await payouts.createPayout({
      idempotencyKey: "p-usdt-1",
      walletId,
      recipient: { case: "recipientAddress", value: to },
      amount: { asset: Asset.USDT, value: "12.5" },
      route: PayoutRoute.V0,
    });
    expect(payout?.state).toBe(PayoutState.QUEUED);
    const done = await waitForState(payout?.id ?? "", [PayoutState.CONFIRMED, PayoutState.FAILED]);
    expect(PayoutState[done.state]).toBe("CONFIRMED");
    expect(done.attempts).toHaveLength(1);
    expect(done.networkCost?.energyUsed).toBeGreaterThan(0n);
    const usdt = await stack.net.tronWeb().contract().at(stack.net.devnet.usdtAddress);
    expect(BigInt(String(await usdt.balanceOf(to).call()))).toBe(12_500_000n);
  }, 60_000);

  it("pays TRX to a new account once, including its activation", async () => {
    const payouts = stack.client(PayoutService);
    const to = newTestAccount().address;
    const { payout } = await payouts.createPayout({
      idempotencyKey: "p-trx-1",
      walletId,
      recipient: { case: "recipientAddress", value: to },
      amount: { asset: Asset.TRX, value: "3" },
      route: PayoutRoute.V0,
    });
    const done = await waitForState(payout?.id ?? "", [PayoutState.CONFIRMED, PayoutState.FAILED]);
    expect(PayoutState[done.state]).toBe("CONFIRMED");
    expect(BigInt(await stack.net.tronWeb().trx.getBalance(to))).toBe(3n * TRX);
  }, 60_000);

  it("answers a repeated idempotency key with the stored payout and refuses it for a different request", async () => {
    const payouts = stack.client(PayoutService);
    const to = newTestAccount().address;
    const request = {
      idempotencyKey: "p-idem-1",
      walletId,
      recipient: { case: "recipientAddress" as const, value: to },
      amount: { asset: Asset.USDT, value: "1" },
      route: PayoutRoute.V0,
    };
    const first = await payouts.createPayout(request);
    const again = await payouts.createPayout(request);
    expect(again.payout?.id).toBe(first.payout?.id);
    const err = await payouts
      .createPayout({ ...request, amount: { asset: Asset.USDT, value: "2" } })
      .catch((e) => e);
    expect(reasonOf(err)).toBe("request.idempotency_key_reused");
  }, 30_000);

  it("gives 50 concurrent duplicates one payout", async () => {
    const payouts = stack.client(PayoutService);
    const to = newTestAccount().address;
    const request = {
      idempotencyKey: "p-concurrent",
      walletId,
      recipient: { case: "recipientAddress" as const, value: to },
      amount: { asset: Asset.TRX, value: "1.5" },
      route: PayoutRoute.V0,
    };
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => payouts.createPayout(request)),
    );
    expect(new Set(answers.map((a) => a.payout?.id)).size).toBe(1);
    const { payouts: listed } = await payouts.listPayouts({ recipientAddress: to });
    expect(listed).toHaveLength(1);
  }, 30_000);

  it.each([
    [
      "an address with a bad checksum",
      {
        recipient: {
          case: "recipientAddress" as const,
          value: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6s",
        },
      },
      "address.invalid",
    ],
    [
      "too many decimals",
      { amount: { asset: Asset.USDT, value: "1.0000001" } },
      "money.invalid_amount",
    ],
    ["a zero amount", { amount: { asset: Asset.USDT, value: "0" } }, "money.out_of_range"],
    ["an unknown wallet", { walletId: "wal_nope" }, "request.not_found"],
    ["no idempotency key", { idempotencyKey: "" }, "request.idempotency_key_missing"],
    [
      "an amount above the route limit",
      { amount: { asset: Asset.USDT, value: "1000000" } },
      "payout.limit_exceeded",
    ],
  ])("refuses %s with a stable reason and writes nothing", async (_name, patch, reason) => {
    const payouts = stack.client(PayoutService);
    const before = await payouts.listPayouts({});
    const err = await payouts
      .createPayout({
        idempotencyKey: `bad-${reason}`,
        walletId,
        recipient: { case: "recipientAddress", value: newTestAccount().address },
        amount: { asset: Asset.USDT, value: "1" },
        route: PayoutRoute.V0,
        ...patch,
      })
      .catch((e) => e);
    expect(reasonOf(err)).toBe(reason);
    const after = await payouts.listPayouts({});
    expect(after.payouts.length).toBe(before.payouts.length);
  });

  it("refuses to pay our own wallet", async () => {
    const payouts = stack.client(PayoutService);
    const err = await payouts
      .createPayout({
        idempotencyKey: "own",
        walletId,
        recipient: { case: "recipientAddress", value: walletAddress },
        amount: { asset: Asset.USDT, value: "1" },
        route: PayoutRoute.V0,
      })
      .catch((e) => e);
    expect(reasonOf(err)).toBe("payout.recipient_is_own_wallet");
  });
});

describe("a wallet that cannot pay", () => {
  it("holds the payout with a visible reason and raises wallet.low_balance once", async () => {
    const wallets = stack.client(WalletService);
    const { wallet } = await wallets.createWallet({
      idempotencyKey: "empty",
      label: "empty",
      purpose: WalletPurpose.PAYOUT,
    });
    const payouts = stack.client(PayoutService);
    const { payout } = await payouts.createPayout({
      idempotencyKey: "p-held",
      walletId: wallet?.id ?? "",
      recipient: { case: "recipientAddress", value: newTestAccount().address },
      amount: { asset: Asset.USDT, value: "1" },
      route: PayoutRoute.V0,
    });
    const held = await waitForState(payout?.id ?? "", [PayoutState.HELD]);
    expect(held.holdReason).toBe("wallet.insufficient_usdt");
    expect(held.attempts).toHaveLength(0);
    const events = await stack.db.pool.anyFirst(
      sql.type(
        z.object({ type: z.string() }),
      )`SELECT type FROM outbox WHERE subject_id = ${wallet?.id ?? ""}`,
    );
    expect(events).toEqual(["wallet.low_balance"]);
  }, 30_000);
});
