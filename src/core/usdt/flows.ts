import type { DatabaseTransactionConnection } from "slonik";
import { normalizeAddress } from "../../shared/address.js";
import { parseAmount } from "../../shared/money.js";
import { insertOperation, type OperationView } from "../operations/repo.js";
import { type Caller, createPayout } from "../payouts/flows.js";
import type { PayoutRow } from "../payouts/repo.js";
import type { PayoutInput, PayoutRules } from "../payouts/validate.js";
import { walletOf } from "../staking/validate.js";

/**
 * A USDT transfer is a payout with the payout rules (route limits, four eyes, own-wallet and
 * address checks), stored as an operation of kind USDT_TRANSFER so that lists can tell them
 * apart. PayoutService's Get, List, Approve, Cancel, Retry and Reconcile take it like any payout.
 */
export async function transferUsdt(
  tx: DatabaseTransactionConnection,
  rules: PayoutRules,
  caller: Caller,
  idempotencyKey: string,
  input: Omit<PayoutInput, "asset" | "payeeTag" | "kycHash" | "metadata">,
): Promise<PayoutRow> {
  return createPayout(
    tx,
    rules,
    caller,
    idempotencyKey,
    { ...input, asset: "USDT", payeeTag: "", kycHash: "", metadata: {} },
    "USDT_TRANSFER",
  );
}

/** A TRC-20 approve from a tronpay wallet; "0" revokes. The signer checks the spender too. */
export async function approveUsdt(
  tx: DatabaseTransactionConnection,
  principal: string,
  input: { walletId: string; spender: string; amount: string },
): Promise<OperationView> {
  const wallet = await walletOf(tx, input.walletId);
  const spender = normalizeAddress(input.spender, "spender_address");
  const amount = parseAmount(input.amount);
  return insertOperation(tx, {
    kind: "USDT_APPROVE",
    asset: "USDT",
    amount,
    walletId: wallet.id,
    ownerAddress: wallet.address,
    counterpartyAddress: spender,
    resource: null,
    lockPeriodBlocks: 0n,
    principal,
  });
}
