import type { Client } from "@connectrpc/connect";
import { Asset } from "../../src/gen/tronpay/v1/common_pb.js";
import {
  type Payout,
  PayoutRoute,
  PayoutService,
  PayoutState,
} from "../../src/gen/tronpay/v1/payout_pb.js";
import { WalletPurpose, WalletService } from "../../src/gen/tronpay/v1/wallet_pb.js";
import { TRX, waitFor } from "../devnet/helpers.js";
import type { Stack } from "./stack.js";

/** Creates a payout wallet through core and funds it on the devnet (solidified). */
export async function fundedWallet(
  stack: Stack,
  trx = 100_000n,
  usdt = 1_000_000n,
): Promise<{ id: string; address: string }> {
  const { wallet } = await stack.client(WalletService).createWallet({
    idempotencyKey: `w-${Math.random()}`,
    label: "payouts",
    purpose: WalletPurpose.PAYOUT,
  });
  if (!wallet) throw new Error("no wallet");
  stack.net.devnet.admin.fund(wallet.address, { trx: trx * TRX, usdt: usdt * 1_000_000n });
  stack.net.solidify();
  return { id: wallet.id, address: wallet.address };
}

/** A USDT payout request (V0 route). */
export function usdtPayout(key: string, walletId: string, to: string, value: string) {
  return {
    idempotencyKey: key,
    walletId,
    recipient: { case: "recipientAddress" as const, value: to },
    amount: { asset: Asset.USDT, value },
    route: PayoutRoute.V0,
  };
}

const TERMINAL = [PayoutState.CONFIRMED, PayoutState.FAILED, PayoutState.CANCELLED];

/** Polls until the payout is terminal (or `states`), through whichever core is running now. */
export function waitForPayout(
  stack: Stack,
  id: string,
  ms = 60_000,
  states = TERMINAL,
): Promise<Payout> {
  return waitFor(async () => {
    try {
      const { payout } = await stack.client(PayoutService).getPayout({ id });
      return payout && states.includes(payout.state) ? payout : undefined;
    } catch {
      return undefined; // core restarting
    }
  }, ms);
}

/** The recipient's USDT balance in base units, read from the devnet's chain. */
export async function usdtBalance(stack: Stack, address: string): Promise<bigint> {
  const usdt = await stack.net.tronWeb().contract().at(stack.net.devnet.usdtAddress);
  return BigInt(String(await usdt.balanceOf(address).call()));
}

export type PayoutClient = Client<typeof PayoutService>;
