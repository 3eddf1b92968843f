import { create } from "@bufbuild/protobuf";
import {
  IntentKind,
  type SignIntent,
  SignIntentSchema,
} from "../../gen/tronpay/signer/v1/signer_pb.js";
import { Asset, Resource } from "../../gen/tronpay/v1/common_pb.js";
import type { BuiltTx, Chain, StakeRequest, StakeResource } from "../chain/types.js";
import type { EngineSettings } from "./deps.js";
import type { OperationRow } from "./repo.js";

/** What one attempt is: the unsigned bytes and the intent the signer checks them against. */
export interface PlannedAttempt {
  built: BuiltTx;
  intent: SignIntent;
}

type StakeKind = "FREEZE" | "UNFREEZE" | "DELEGATE" | "UNDELEGATE" | "WITHDRAW_UNSTAKED";

// Operation kinds that are Stake 2.0 contracts, by the signer's intent kind.
const STAKE_KINDS: Readonly<Record<string, StakeKind>> = {
  STAKE: "FREEZE",
  UNSTAKE: "UNFREEZE",
  DELEGATE: "DELEGATE",
  UNDELEGATE: "UNDELEGATE",
  WITHDRAW_UNSTAKED: "WITHDRAW_UNSTAKED",
};

/** The intent kind of an operation: payouts by asset, the rest by operation kind. */
export function intentKindOf(op: OperationRow): keyof typeof IntentKind {
  const stake = STAKE_KINDS[op.kind];
  if (stake) return stake;
  if (op.kind === "USDT_APPROVE") return "USDT_APPROVE";
  return op.asset === "USDT" ? "USDT_TRANSFER" : "TRX_TRANSFER";
}

/**
 * Builds an operation's next attempt through the one chain adapter (transfers and approves
 * with buildTransfer, Stake 2.0 with buildStake) and states its intent with the same fields
 * the transaction carries, so the signer can hold one against the other.
 */
export async function planAttempt(
  chain: Chain,
  settings: EngineSettings,
  op: OperationRow,
  previousTxId: string | undefined,
): Promise<PlannedAttempt> {
  const kind = intentKindOf(op);
  const base = {
    operationId: op.id,
    kind: IntentKind[kind],
    ownerAddress: op.owner_address,
    previousTxId,
  };
  if (kind === "TRX_TRANSFER" || kind === "USDT_TRANSFER" || kind === "USDT_APPROVE") {
    const built = await chain.buildTransfer({
      kind,
      owner: op.owner_address,
      to: op.counterparty_address,
      amount: op.amount,
      memo: op.memo === "" ? undefined : op.memo,
      feeLimit: kind === "TRX_TRANSFER" ? undefined : settings.feeLimitSun,
      lifetimeMs: settings.lifetimeMs,
    });
    const intent = create(SignIntentSchema, {
      ...base,
      counterpartyAddress: op.counterparty_address,
      asset: op.asset === "USDT" ? Asset.USDT : Asset.TRX,
      amount: op.amount.toString(),
      memo: op.memo === "" ? undefined : op.memo,
    });
    return { built, intent };
  }
  const built = await chain.buildStake(stakeRequestOf(op, kind as StakeKind, settings.lifetimeMs));
  const resource = resourceOf(op);
  const locked = kind === "DELEGATE" && op.lock_period_blocks > 0n;
  const intent = create(SignIntentSchema, {
    ...base,
    counterpartyAddress:
      kind === "DELEGATE" || kind === "UNDELEGATE" ? op.counterparty_address : "",
    // The signer wants TRX for every non-USDT kind; a withdrawal states no amount.
    asset: Asset.TRX,
    amount: kind === "WITHDRAW_UNSTAKED" ? "0" : op.amount.toString(),
    resource: resource === undefined ? Resource.UNSPECIFIED : Resource[resource],
    lock: locked,
    lockPeriodBlocks: locked ? op.lock_period_blocks : 0n,
  });
  return { built, intent };
}

function resourceOf(op: OperationRow): StakeResource | undefined {
  if (op.resource === "BANDWIDTH" || op.resource === "ENERGY") return op.resource;
  return undefined;
}

function stakeRequestOf(op: OperationRow, kind: StakeKind, lifetimeMs: number): StakeRequest {
  const owner = op.owner_address;
  if (kind === "WITHDRAW_UNSTAKED") return { kind: "WITHDRAW_EXPIRE_UNFREEZE", owner, lifetimeMs };
  const resource = resourceOf(op);
  if (!resource) throw new Error(`operation ${op.id} of kind ${op.kind} has no resource`);
  const amount = op.amount;
  if (kind === "FREEZE" || kind === "UNFREEZE")
    return { kind, owner, lifetimeMs, amount, resource };
  const receiver = op.counterparty_address;
  if (kind === "UNDELEGATE") return { kind, owner, lifetimeMs, amount, resource, receiver };
  const lockPeriod = op.lock_period_blocks > 0n ? op.lock_period_blocks : undefined;
  return { kind, owner, lifetimeMs, amount, resource, receiver, lockPeriod };
}
