import type { DatabaseTransactionConnection } from "slonik";
import { AppError } from "../../shared/errors.js";
import { parsePositiveAmount } from "../../shared/money.js";
import type { Chain, StakeResource } from "../chain/types.js";
import { insertOperation, type OperationView } from "../operations/repo.js";
import { refuseWhatSignerRefuses, type SignerPolicyView } from "../operations/signer-policy.js";
import { importedKeyCoolingOffMs, refuseCoolingOff } from "../wallets/cooling-off.js";
import { findWalletByAddress, type WalletRow } from "../wallets/repo.js";
import { queuedUnstakes } from "./repo.js";
import {
  MAX_PENDING_UNFREEZES,
  needStake,
  ownReceiver,
  STAKE_FEE_MARGIN_SUN,
  walletOf,
} from "./validate.js";

const SUN_PER_TRX = 1_000_000n;
const DAY_MS = 86_400_000;

/** Who stakes what: the request in domain terms (amount is decimal TRX). */
export interface StakeInput {
  principal: string;
  walletId: string;
  amount: string;
  resource: StakeResource;
}

/** FreezeBalanceV2: at least 1 TRX, and no more than the wallet's spendable TRX less fees. */
export async function stake(
  tx: DatabaseTransactionConnection,
  chain: Chain,
  input: StakeInput,
): Promise<OperationView> {
  const wallet = await walletOf(tx, input.walletId);
  const amount = parsePositiveAmount(input.amount);
  if (amount < SUN_PER_TRX) {
    throw new AppError("money.out_of_range", "a stake is at least 1 TRX", {
      metadata: { field: "amount" },
    });
  }
  const state = await chain.stakingState(wallet.address);
  if (state.balance < amount + STAKE_FEE_MARGIN_SUN) {
    throw new AppError("wallet.insufficient_trx", "the wallet does not hold that much TRX", {
      metadata: { field: "amount" },
    });
  }
  return insertOperation(tx, {
    ...common(input.principal, wallet),
    kind: "STAKE",
    amount,
    resource: input.resource,
  });
}

/**
 * UnfreezeBalanceV2: at most the stake not delegated away, and only while fewer than 32
 * unfreezes are pending. Returns when the TRX will be withdrawable by the chain's clock.
 */
export async function unstake(
  tx: DatabaseTransactionConnection,
  chain: Chain,
  input: StakeInput,
): Promise<{ operation: OperationView; pendingCount: number; availableAt: number }> {
  const wallet = await walletOf(tx, input.walletId);
  const amount = parsePositiveAmount(input.amount);
  const [state, head, params, available] = await Promise.all([
    chain.stakingState(wallet.address),
    chain.head(),
    chain.chainParameters(),
    chain.availableUnfreezeCount(wallet.address),
  ]);
  needStake(state.frozen[input.resource], amount, input.resource);
  const pending = state.unfreezes.filter((u) => u.expireTime > head.timestamp).length;
  // The chain's own count decides (32 on mainnet); queued unstakes not yet on chain count too.
  const queued = await queuedUnstakes(tx, wallet.id);
  if (available - queued <= 0) {
    throw new AppError(
      "staking.too_many_unfreezes",
      `the wallet already has ${pending + queued} unfreezes pending (at most ${MAX_PENDING_UNFREEZES})`,
    );
  }
  const operation = await insertOperation(tx, {
    ...common(input.principal, wallet),
    kind: "UNSTAKE",
    amount,
    resource: input.resource,
  });
  const delayMs = Number(params.unfreezeDelayDays) * DAY_MS;
  return { operation, pendingCount: pending + queued + 1, availableAt: head.timestamp + delayMs };
}

/**
 * DelegateResource to another tronpay wallet, optionally locked for `lockBlocks` blocks. A
 * delegation is value moved to the receiver, so it follows the allowance rule: never to a key
 * imported within the signer's cooling-off, and never what the signer's policy refuses.
 */
export async function delegate(
  tx: DatabaseTransactionConnection,
  chain: Chain,
  input: StakeInput & { receiver: string; lockBlocks: bigint },
  signer: { policy?: SignerPolicyView; now: number },
): Promise<OperationView> {
  const wallet = await walletOf(tx, input.walletId);
  const receiver = await ownReceiver(tx, wallet, input.receiver);
  const amount = parsePositiveAmount(input.amount);
  const receiving = (await findWalletByAddress(tx, receiver)) as WalletRow;
  const coolingOff = await importedKeyCoolingOffMs(signer.policy);
  refuseCoolingOff(receiving, signer.now, coolingOff, "receiver_address");
  await refuseWhatSignerRefuses(
    signer.policy,
    { kind: "DELEGATE", counterparty: receiver, amount, memo: "" },
    signer.now,
  ).catch((err: unknown) => {
    if (err instanceof AppError) err.metadata.field ??= "receiver_address";
    throw err;
  });
  const state = await chain.stakingState(wallet.address);
  needStake(state.frozen[input.resource], amount, input.resource);
  return insertOperation(tx, {
    ...common(input.principal, wallet),
    kind: "DELEGATE",
    amount,
    resource: input.resource,
    counterpartyAddress: receiver,
    lockPeriodBlocks: input.lockBlocks,
  });
}

/** UnDelegateResource: at most what is delegated to that receiver for that resource. */
export async function undelegate(
  tx: DatabaseTransactionConnection,
  chain: Chain,
  input: StakeInput & { receiver: string },
): Promise<OperationView> {
  const wallet = await walletOf(tx, input.walletId);
  const receiver = await ownReceiver(tx, wallet, input.receiver);
  const amount = parsePositiveAmount(input.amount);
  const { out } = await chain.delegations(wallet.address);
  const lent = out.find((d) => d.to === receiver && d.resource === input.resource);
  if (!lent || lent.amount < amount) {
    throw new AppError(
      "staking.insufficient_delegation",
      "less than that is delegated to that receiver",
      { metadata: { field: "amount" } },
    );
  }
  return insertOperation(tx, {
    ...common(input.principal, wallet),
    kind: "UNDELEGATE",
    amount,
    resource: input.resource,
    counterpartyAddress: receiver,
  });
}

/** WithdrawExpireUnfreeze, only when some unfrozen TRX has passed its waiting period. */
export async function withdrawUnstaked(
  tx: DatabaseTransactionConnection,
  chain: Chain,
  principal: string,
  walletId: string,
): Promise<{ operation: OperationView; amount: bigint }> {
  const wallet = await walletOf(tx, walletId);
  const [state, head] = await Promise.all([chain.stakingState(wallet.address), chain.head()]);
  const amount = state.unfreezes
    .filter((u) => u.expireTime <= head.timestamp)
    .reduce((sum, u) => sum + u.amount, 0n);
  if (amount === 0n) {
    throw new AppError(
      "staking.nothing_to_withdraw",
      "no unfrozen TRX has passed its waiting period yet",
    );
  }
  const operation = await insertOperation(tx, {
    ...common(principal, wallet),
    kind: "WITHDRAW_UNSTAKED",
    amount,
    resource: null,
  });
  return { operation, amount };
}

function common(principal: string, wallet: { id: string; address: string }) {
  return {
    principal,
    walletId: wallet.id,
    ownerAddress: wallet.address,
    asset: "TRX" as const,
    counterpartyAddress: "",
    lockPeriodBlocks: 0n,
  };
}
