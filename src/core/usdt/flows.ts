import type { DatabaseTransactionConnection } from "slonik";
import { normalizeAddress } from "../../shared/address.js";
import { AppError } from "../../shared/errors.js";
import { parseAmount } from "../../shared/money.js";
import { isPaused } from "../admin/pause.js";
import { newId } from "../kernel/ids.js";
import { findOperation, insertOperation, type OperationView } from "../operations/repo.js";
import { refuseWhatSignerRefuses } from "../operations/signer-policy.js";
import { type Caller, createPayout } from "../payouts/flows.js";
import { findPayout, insertPayout, type PayoutRow } from "../payouts/repo.js";
import type { PayoutInput, PayoutRules, ValidPayout } from "../payouts/validate.js";
import { walletOf } from "../staking/validate.js";
import { allowedSpender } from "./spender.js";

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

/** What an approve stored: the operation, and the payout it became (none for a revoke). */
export interface StoredApprove {
  operation: OperationView;
  payout: PayoutRow | null;
}

/**
 * A TRC-20 approve from a tronpay wallet. An allowance lets the spender move the amount with no
 * further signature of ours, so one above 0 is a payout in all but name: its spender must be on
 * the allowlist (allowedSpender), the signer's policy must allow it, and it is stored as a payout
 * of kind USDT_APPROVE on the DIRECT route: the route's per-payout and daily limits, four eyes
 * above the approval threshold. "0" revokes, moves nothing, and is a plain operation.
 */
export async function approveUsdt(
  tx: DatabaseTransactionConnection,
  rules: PayoutRules,
  caller: Caller,
  idempotencyKey: string,
  input: { walletId: string; spender: string; amount: string },
): Promise<StoredApprove> {
  const wallet = await walletOf(tx, input.walletId);
  const spender = normalizeAddress(input.spender, "spender_address");
  const amount = parseAmount(input.amount, "amount");
  if (amount === 0n) {
    const operation = await insertOperation(tx, {
      kind: "USDT_APPROVE",
      asset: "USDT",
      amount,
      walletId: wallet.id,
      ownerAddress: wallet.address,
      counterpartyAddress: spender,
      resource: null,
      lockPeriodBlocks: 0n,
      principal: caller.principal,
    });
    return { operation, payout: null };
  }
  if (await isPaused(tx))
    throw new AppError("payout.paused", "payouts are paused by an administrator");
  const { payeeTag } = await allowedSpender(tx, wallet, spender, caller.now, rules.signerPolicy);
  await refuseWhatSignerRefuses(
    rules.signerPolicy,
    { kind: "USDT_APPROVE", counterparty: spender, amount, memo: "" },
    caller.now,
  ).catch((err: unknown) => {
    if (err instanceof AppError) err.metadata.field ??= "spender_address";
    throw err;
  });
  if (amount > rules.limits.DIRECT.maxPerPayout) {
    throw new AppError("payout.limit_exceeded", "the amount is above the DIRECT per-payout limit", {
      metadata: { field: "amount", limit: "per_payout" },
    });
  }
  const valid: ValidPayout = {
    walletId: wallet.id,
    ownerAddress: wallet.address,
    recipientAddress: spender,
    payeeTag,
    asset: "USDT",
    amount,
    route: "DIRECT",
    priority: 2,
    memo: "",
    clientReference: "",
    metadata: {},
    kycHash: null,
    approvalRequired: amount > rules.approvalThreshold,
    compliance: null,
  };
  const id = newId("po");
  await insertPayout(
    tx,
    {
      ...valid,
      id,
      kind: "USDT_APPROVE",
      principal: caller.principal,
      idempotencyKey,
      batchId: null,
      batchIndex: null,
      batchItemReference: "",
    },
    rules.limits.DIRECT.maxPerDay,
  );
  const operation = (await findOperation(tx, id)) as OperationView;
  return { operation, payout: await findPayout(tx, id) };
}
