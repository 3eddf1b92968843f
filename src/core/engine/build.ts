import { create } from "@bufbuild/protobuf";
import {
  IntentKind,
  type SignIntent,
  SignIntentSchema,
} from "../../gen/tronpay/signer/v1/signer_pb.js";
import { Asset, Resource } from "../../gen/tronpay/v1/common_pb.js";
import type { BuiltTx, Chain } from "../chain/types.js";
import { type IntentName, KINDS } from "../operations/kinds.js";
import type { EngineSettings } from "./deps.js";
import type { OperationRow } from "./repo.js";

/** What one attempt is: the unsigned bytes and the intent the signer checks them against. */
export interface PlannedAttempt {
  built: BuiltTx;
  intent: SignIntent;
}

/** The intent kind of an operation, from the kind registry (payouts by asset). */
export function intentKindOf(op: OperationRow): IntentName {
  const plan = KINDS[op.kind].plan;
  return plan.via === "transfer" ? plan.intent(op.asset) : plan.intent;
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
  const spec = KINDS[op.kind];
  const plan = spec.plan;
  const base = { operationId: op.id, ownerAddress: op.owner_address, previousTxId };
  if (plan.via === "transfer") {
    const kind = plan.intent(op.asset);
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
      kind: IntentKind[kind],
      counterpartyAddress: op.counterparty_address,
      asset: op.asset === "USDT" ? Asset.USDT : Asset.TRX,
      amount: op.amount.toString(),
      memo: op.memo === "" ? undefined : op.memo,
    });
    return { built, intent };
  }
  const request = plan.request(op);
  const built = await chain.buildStake({
    ...request,
    owner: op.owner_address,
    lifetimeMs: settings.lifetimeMs,
  });
  const lockPeriod = request.kind === "DELEGATE" ? request.lockPeriod : undefined;
  const intent = create(SignIntentSchema, {
    ...base,
    kind: IntentKind[plan.intent],
    counterpartyAddress: plan.counterparty ? op.counterparty_address : "",
    // The signer wants TRX for every non-USDT kind; a contract without an amount states 0.
    asset: Asset.TRX,
    amount: spec.amountOnChain ? op.amount.toString() : "0",
    resource: op.resource === null ? Resource.UNSPECIFIED : Resource[op.resource],
    lock: lockPeriod !== undefined,
    lockPeriodBlocks: lockPeriod ?? 0n,
  });
  return { built, intent };
}
