import type { IntentKind } from "../../gen/tronpay/signer/v1/signer_pb.js";
import { OperationKind as ProtoKind } from "../../gen/tronpay/v1/common_pb.js";
import { WalletTransactionKind } from "../../gen/tronpay/v1/wallet_pb.js";
import type { StakeRequest, StakeResource } from "../chain/types.js";

/**
 * The operation-kind registry: every fact about a kind of operation in one typed row, keyed by
 * a union the compiler checks. Adding a kind means one row here (the compiler then asks for
 * nothing else that dispatches on kinds), one proto enum value and one migration extending the
 * operations.kind CHECK; kinds.test.ts holds the three together.
 */

/** The operation kinds, as the operations.kind column stores them. */
export const OPERATION_KINDS = [
  "PAYOUT",
  "USDT_TRANSFER",
  "USDT_APPROVE",
  "STAKE",
  "UNSTAKE",
  "DELEGATE",
  "UNDELEGATE",
  "WITHDRAW_UNSTAKED",
] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** A signer intent kind by its proto name. */
export type IntentName = Exclude<keyof typeof IntentKind, "UNSPECIFIED">;

/** What a kind's plan reads from its operation row. */
export interface KindOp {
  id: string;
  kind: OperationKind;
  asset: "TRX" | "USDT";
  amount: bigint;
  owner_address: string;
  counterparty_address: string;
  resource: StakeResource | null;
  lock_period_blocks: bigint;
}

/** The chain-facing part of a Stake 2.0 request (owner and lifetime are the engine's). */
export type StakeContract = StakeRequest extends infer R
  ? R extends unknown
    ? Omit<R, "owner" | "lifetimeMs">
    : never
  : never;

/** How the engine builds a kind and what it declares to the signer. */
export type KindPlan =
  | {
      /** A TRX transfer or a USDT call (chain.buildTransfer); the intent kind follows the asset. */
      via: "transfer";
      intent: (
        asset: KindOp["asset"],
      ) => Extract<IntentName, "TRX_TRANSFER" | "USDT_TRANSFER" | "USDT_APPROVE">;
    }
  | {
      /** A Stake 2.0 contract (chain.buildStake); the intent states TRX. */
      via: "stake";
      intent: Exclude<IntentName, "TRX_TRANSFER" | "USDT_TRANSFER" | "USDT_APPROVE">;
      /** Whether the intent names the operation's counterparty (the delegation receiver). */
      counterparty: boolean;
      request: (op: KindOp) => StakeContract;
    };

/**
 * What the engine checks before signing (engine/funds.ts): a transfer needs the asset (and TRX
 * for energy); a stake contract needs TRX for bandwidth, plus the amount when it `spends` it,
 * plus enough stake or delegation when it `needs` one.
 */
export type FundCheck =
  | { check: "transfer" }
  | { check: "stake"; spends: boolean; needs: "nothing" | "frozen" | "delegation" };

export interface KindSpec {
  /** Its value in the API (tronpay.v1.OperationKind). */
  proto: ProtoKind;
  plan: KindPlan;
  funds: FundCheck;
  /** Stored with a payouts row (PayoutService lists, approves and cancels it). */
  payout: boolean;
  /**
   * Pays a recipient: its state changes are payout.* events (else operation.*), it counts as a
   * payout in metrics and in the energy history, and it is an outgoing wallet transaction.
   */
  pays: boolean;
  /** Whether the chain contract carries the stored amount (else the intent states 0 and the
   * API shows none: the amount is what was expected when the operation was created). */
  amountOnChain: boolean;
  /** Its kind in a wallet's transaction list. */
  walletTransaction: (asset: KindOp["asset"]) => WalletTransactionKind;
}

/** The resource of a stake operation; every stake kind with a resource stores one. */
function resourceOf(op: KindOp): StakeResource {
  if (!op.resource) throw new Error(`operation ${op.id} of kind ${op.kind} has no resource`);
  return op.resource;
}

const byAsset = (asset: KindOp["asset"]) =>
  asset === "USDT" ? WalletTransactionKind.USDT_TRANSFER : WalletTransactionKind.TRX_TRANSFER;
const transfer: KindPlan = {
  via: "transfer",
  intent: (asset) => (asset === "USDT" ? "USDT_TRANSFER" : "TRX_TRANSFER"),
};
const paying = {
  funds: { check: "transfer" },
  payout: true,
  pays: true,
  amountOnChain: true,
} as const;
const staking = { payout: false, pays: false } as const;

export const KINDS = {
  PAYOUT: { proto: ProtoKind.PAYOUT, plan: transfer, ...paying, walletTransaction: byAsset },
  USDT_TRANSFER: {
    proto: ProtoKind.USDT_TRANSFER,
    plan: transfer,
    ...paying,
    walletTransaction: byAsset,
  },
  // An allowance above 0 lets the spender move USDT without us, so it is held like a payout.
  USDT_APPROVE: {
    proto: ProtoKind.USDT_APPROVE,
    plan: { via: "transfer", intent: () => "USDT_APPROVE" },
    funds: { check: "transfer" },
    payout: true,
    pays: false,
    amountOnChain: true,
    walletTransaction: () => WalletTransactionKind.USDT_APPROVE,
  },
  STAKE: {
    proto: ProtoKind.STAKE,
    plan: {
      via: "stake",
      intent: "FREEZE",
      counterparty: false,
      request: (op) => ({ kind: "FREEZE", amount: op.amount, resource: resourceOf(op) }),
    },
    funds: { check: "stake", spends: true, needs: "nothing" },
    ...staking,
    amountOnChain: true,
    walletTransaction: () => WalletTransactionKind.STAKE,
  },
  UNSTAKE: {
    proto: ProtoKind.UNSTAKE,
    plan: {
      via: "stake",
      intent: "UNFREEZE",
      counterparty: false,
      request: (op) => ({ kind: "UNFREEZE", amount: op.amount, resource: resourceOf(op) }),
    },
    funds: { check: "stake", spends: false, needs: "frozen" },
    ...staking,
    amountOnChain: true,
    walletTransaction: () => WalletTransactionKind.UNSTAKE,
  },
  DELEGATE: {
    proto: ProtoKind.DELEGATE,
    plan: {
      via: "stake",
      intent: "DELEGATE",
      counterparty: true,
      request: (op) => ({
        kind: "DELEGATE",
        amount: op.amount,
        resource: resourceOf(op),
        receiver: op.counterparty_address,
        lockPeriod: op.lock_period_blocks > 0n ? op.lock_period_blocks : undefined,
      }),
    },
    funds: { check: "stake", spends: false, needs: "frozen" },
    ...staking,
    amountOnChain: true,
    walletTransaction: () => WalletTransactionKind.DELEGATE,
  },
  UNDELEGATE: {
    proto: ProtoKind.UNDELEGATE,
    plan: {
      via: "stake",
      intent: "UNDELEGATE",
      counterparty: true,
      request: (op) => ({
        kind: "UNDELEGATE",
        amount: op.amount,
        resource: resourceOf(op),
        receiver: op.counterparty_address,
      }),
    },
    funds: { check: "stake", spends: false, needs: "delegation" },
    ...staking,
    amountOnChain: true,
    walletTransaction: () => WalletTransactionKind.UNDELEGATE,
  },
  WITHDRAW_UNSTAKED: {
    proto: ProtoKind.WITHDRAW_UNSTAKED,
    plan: {
      via: "stake",
      intent: "WITHDRAW_UNSTAKED",
      counterparty: false,
      request: () => ({ kind: "WITHDRAW_EXPIRE_UNFREEZE" }),
    },
    funds: { check: "stake", spends: false, needs: "nothing" },
    ...staking,
    amountOnChain: false,
    walletTransaction: () => WalletTransactionKind.WITHDRAW_UNSTAKED,
  },
} satisfies Readonly<Record<OperationKind, KindSpec>>;

/** The kinds stored with a payouts row, as a type. */
export type PayoutKind = {
  [K in OperationKind]: (typeof KINDS)[K]["payout"] extends true ? K : never;
}[OperationKind];

/** Whether a kind is stored with a payouts row. */
export function isPayoutKind(kind: OperationKind): kind is PayoutKind {
  return KINDS[kind].payout;
}

/** Kinds stored with a payouts row. */
export const PAYOUT_KINDS: readonly PayoutKind[] = OPERATION_KINDS.filter(isPayoutKind);
/** Kinds that pay a recipient (payout events, payout metrics, energy history). */
export const PAYING_KINDS: readonly OperationKind[] = OPERATION_KINDS.filter((k) => KINDS[k].pays);

/** The prefix of an operation's audit actions and events: payout.* or operation.*. */
export function eventPrefix(kind: OperationKind): "payout" | "operation" {
  return KINDS[kind].pays ? "payout" : "operation";
}
