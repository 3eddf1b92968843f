import { sql } from "slonik";
import type { PayoutInput, PayoutRules } from "../../src/core/payouts/validate.js";
import { newTestAccount } from "../devnet/helpers.js";
import type { TestDatabase } from "./db.js";

/** One USDT in base units. */
export const USDT = 1_000_000n;

/** Payout rules with the same limits on every route (V0, KYC, DIRECT). */
export function uniformRules(
  maxPerPayout: bigint,
  maxPerDay: bigint,
  approvalThreshold: bigint,
): PayoutRules {
  const limit = { maxPerPayout, maxPerDay };
  return { limits: { V0: limit, KYC: limit, DIRECT: limit }, approvalThreshold };
}

/** Stores a PAYOUT wallet row directly (flow tests need no key in a signer). */
export async function insertPayoutWallet(
  db: TestDatabase,
  wallet: { id: string; address: string },
): Promise<void> {
  await db.pool.query(sql.unsafe`
    INSERT INTO wallets (id, address, label, purpose) VALUES (${wallet.id}, ${wallet.address}, 'w', 'PAYOUT')`);
}

/** A V0 payout of 1 USDT from `walletId` to a new address; `patch` overrides any field. */
export function payoutInput(walletId: string, patch: Partial<PayoutInput> = {}): PayoutInput {
  return {
    walletId,
    recipientAddress: newTestAccount().address,
    payeeTag: "",
    asset: "USDT",
    amount: "1",
    route: "V0",
    priority: 0,
    memo: "",
    clientReference: "",
    metadata: {},
    kycHash: "",
    ...patch,
  };
}
