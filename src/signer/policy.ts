import { toBase58 } from "../shared/address.js";
import { AppError } from "../shared/errors.js";
import type { ContractType, Resource, TxRaw } from "../tron/transaction.js";
import { TronDecodeError } from "../tron/transaction.js";
import { decodeCall, type Trc20Call } from "../tron/trc20.js";

/**
 * The signer's policy: what it will sign, decided from the decoded bytes and the declared
 * intent alone. Everything here is synchronous and pure; the journal-based rules (caps, one
 * transaction per operation) are applied in flows.ts.
 */

/**
 * What the core says it means to do, and the one contract type each intent may be. The policy's
 * allowed contract types are these (main.ts); the proto's IntentKind names the same kinds
 * (handlers.ts fails to compile when one has a kind the other lacks).
 */
export const INTENT_CONTRACTS = {
  TRX_TRANSFER: "TransferContract",
  USDT_TRANSFER: "TriggerSmartContract",
  USDT_APPROVE: "TriggerSmartContract",
  FREEZE: "FreezeBalanceV2Contract",
  UNFREEZE: "UnfreezeBalanceV2Contract",
  WITHDRAW_UNSTAKED: "WithdrawExpireUnfreezeContract",
  DELEGATE: "DelegateResourceContract",
  UNDELEGATE: "UnDelegateResourceContract",
} as const satisfies Readonly<Record<string, ContractType>>;
export type IntentKind = keyof typeof INTENT_CONTRACTS;

/** Whether a name is an intent kind of the policy. */
export function isIntentKind(name: string | undefined): name is IntentKind {
  return name !== undefined && Object.hasOwn(INTENT_CONTRACTS, name);
}

/** Every contract type some intent kind may be, each once. */
export const INTENT_CONTRACT_TYPES: readonly ContractType[] = [
  ...new Set(Object.values(INTENT_CONTRACTS)),
];

/** A signing intent in domain types (converted from the proto by the handler). */
export interface Intent {
  operationId: string;
  kind: IntentKind;
  /** base58 */
  owner: string;
  /** Recipient, spender or delegation receiver (base58); "" for kinds without one. */
  counterparty: string;
  /** Base units: sun or USDT units. */
  amount: bigint;
  /** The txID this attempt replaces, or "". */
  previousTxId: string;
  /** The asset the intent says it moves or stakes. */
  asset: "TRX" | "USDT";
  /** Stake and delegation resource; undefined for other kinds. */
  resource?: Resource;
  /** Delegation lock and its period in blocks (DELEGATE only). */
  lock: boolean;
  lockPeriodBlocks: bigint;
  /** The memo the intent declares (raw.data as UTF-8), or "". */
  memo: string;
}

/** Which cap an intent counts against. */
export type CapAsset = "TRX" | "USDT" | "NONE";

export interface Policy {
  allowedContracts: readonly ContractType[];
  /** The one TRC-20 contract the signer will call (base58). */
  usdtContract: string;
  maxPerTx: Readonly<Record<"TRX" | "USDT", bigint>>;
  maxPer24h: Readonly<Record<"TRX" | "USDT", bigint>>;
  /** Largest fee_limit (sun) a contract call may carry. */
  maxFeeLimit: bigint;
  /** Largest expiration − timestamp (ms). */
  maxLifetimeMs: number;
  /** Memos (raw.data) allowed at all. */
  allowMemo: boolean;
  /** If non-empty, transfer recipients must be listed. */
  allowlist: readonly string[];
  /** Recipients never paid. */
  denylist: readonly string[];
  /** Delegation receivers and USDT spenders must be the signer's own keys. */
  ownReceiversOnly: boolean;
  /** How long after an attempt's expiration a replacement may be signed (ms). */
  replacementMarginMs: number;
  /**
   * For this long after a key is imported it gets no USDT allowance and no delegation (ms):
   * whoever handed the key in knows it, so value sent its way could leave with no second person.
   */
  importedKeyCoolingOffMs: number;
}

/** When an address was imported as a key (ms since epoch); undefined if derived or not ours. */
export type ImportedAt = (address: string) => number | undefined;

/** The rules core can apply from GetPolicy before it accepts a request (see checkDeclared). */
export type DeclaredPolicy = Pick<
  Policy,
  | "allowMemo"
  | "allowlist"
  | "denylist"
  | "ownReceiversOnly"
  | "maxPerTx"
  | "importedKeyCoolingOffMs"
>;

/** The cap asset of an intent kind. */
export function capAssetOf(kind: IntentKind): CapAsset {
  if (kind === "TRX_TRANSFER") return "TRX";
  if (kind === "USDT_TRANSFER" || kind === "USDT_APPROVE") return "USDT";
  return "NONE";
}

function deny(rule: string, message: string): AppError {
  return new AppError("signer.policy_denied", message, { metadata: { rule } });
}

function mismatch(field: string, message: string): AppError {
  return new AppError("signer.intent_mismatch", message, { metadata: { field } });
}

/**
 * Checks a decoded transaction against the intent and the policy; throws
 * `signer.intent_mismatch` or `signer.policy_denied` (metadata.rule names the rule).
 * `isOwn` says whether an address is one of the signer's keys; `now` is ms since epoch.
 */
export function checkAgainstPolicy(
  raw: TxRaw,
  intent: Intent,
  policy: Policy,
  isOwn: (address: string) => boolean,
  now: number,
  importedAt: ImportedAt = () => undefined,
): void {
  const c = raw.contract;
  if (!policy.allowedContracts.includes(c.type)) {
    throw deny("contract_type", `contract type ${c.type} is not allowed by policy`);
  }
  if (INTENT_CONTRACTS[intent.kind] !== c.type) {
    throw mismatch("kind", `intent ${intent.kind} does not match a ${c.type}`);
  }
  if (toBase58(c.owner) !== intent.owner)
    throw mismatch("owner", "the transaction's owner is not the intent's owner");
  checkTiming(raw, policy, now);
  if (raw.data.length > 0 && !policy.allowMemo)
    throw deny("memo", "memos are not allowed by policy");
  if (new TextDecoder().decode(raw.data) !== intent.memo)
    throw mismatch("memo", "the transaction's memo is not the intent's memo");
  if (intent.asset !== (intent.kind.startsWith("USDT_") ? "USDT" : "TRX")) {
    throw mismatch("asset", `intent ${intent.kind} does not move ${intent.asset}`);
  }
  checkStakeFields(raw, intent);
  if (raw.permissionId !== 0) throw deny("permission_id", "only the owner permission may sign");
  const { counterparty, amount } = effectOf(raw, intent, policy);
  if (counterparty !== intent.counterparty) {
    throw mismatch("counterparty", "the transaction's recipient is not the intent's recipient");
  }
  if (amount !== intent.amount)
    throw mismatch("amount", "the transaction's amount is not the intent's amount");
  checkCounterparty(intent, policy, isOwn, importedAt, now);
  checkPerTxCap(intent, policy);
}

/**
 * The rules that depend only on what an intent declares (memo, counterparty, per-transaction
 * cap), with the same reasons and rules as at signing. Core runs them when it accepts a request,
 * with the policy GetPolicy reports, so it never accepts what the signer will refuse.
 */
export function checkDeclared(
  intent: Pick<Intent, "kind" | "counterparty" | "amount" | "memo">,
  policy: DeclaredPolicy,
  isOwn: (address: string) => boolean,
  importedAt: ImportedAt,
  now: number,
): void {
  if (intent.memo !== "" && !policy.allowMemo)
    throw deny("memo", "memos are not allowed by policy");
  checkCounterparty(intent, policy, isOwn, importedAt, now);
  checkPerTxCap(intent, policy);
}

function checkPerTxCap(intent: Pick<Intent, "kind" | "amount">, policy: DeclaredPolicy): void {
  const asset = capAssetOf(intent.kind);
  if (asset !== "NONE" && intent.amount > policy.maxPerTx[asset]) {
    throw deny("max_per_tx", `the amount is above the per-transaction cap for ${asset}`);
  }
}

function checkTiming(raw: TxRaw, policy: Policy, now: number): void {
  const expiration = Number(raw.expiration);
  if (expiration <= now) throw deny("expired", "the transaction has already expired");
  if (expiration > now + 24 * 3_600_000)
    throw deny("expiration_window", "the expiration is more than 24 h ahead");
  if (raw.timestamp > 0n && raw.expiration - raw.timestamp > BigInt(policy.maxLifetimeMs)) {
    throw deny("expiration_window", "expiration − timestamp exceeds the allowed window");
  }
  if (raw.expiration <= raw.timestamp)
    throw deny("expiration_window", "the expiration is not after the timestamp");
}

/** What the transaction does, in intent terms: counterparty (base58 or "") and amount. */
function effectOf(
  raw: TxRaw,
  intent: Intent,
  policy: Policy,
): { counterparty: string; amount: bigint } {
  const c = raw.contract;
  switch (c.type) {
    case "TransferContract":
      return { counterparty: toBase58(c.to), amount: c.amount };
    case "TriggerSmartContract": {
      if (toBase58(c.contract) !== policy.usdtContract)
        throw deny("token_contract", "only the configured USDT contract may be called");
      if (c.callValue !== 0n || c.callTokenValue !== 0n || c.tokenId !== 0n) {
        throw deny("call_value", "a token call may not carry TRX or TRC-10 value");
      }
      if (raw.feeLimit > policy.maxFeeLimit)
        throw deny("fee_limit", "fee_limit is above the policy cap");
      if (raw.feeLimit <= 0n) throw deny("fee_limit", "a contract call needs a fee_limit");
      const call = decodeTokenCall(c.data);
      if (intent.kind === "USDT_TRANSFER" && call.method === "transfer") {
        return { counterparty: toBase58(call.to), amount: call.amount };
      }
      if (intent.kind === "USDT_APPROVE" && call.method === "approve") {
        return { counterparty: toBase58(call.spender), amount: call.amount };
      }
      throw deny("token_method", `${call.method} may not be called for intent ${intent.kind}`);
    }
    case "FreezeBalanceV2Contract":
      return { counterparty: "", amount: c.frozenBalance };
    case "UnfreezeBalanceV2Contract":
      return { counterparty: "", amount: c.unfreezeBalance };
    case "DelegateResourceContract":
    case "UnDelegateResourceContract":
      return { counterparty: toBase58(c.receiver), amount: c.balance };
    case "WithdrawExpireUnfreezeContract":
    case "CancelAllUnfreezeV2Contract":
      return { counterparty: "", amount: 0n };
  }
}

function checkCounterparty(
  intent: Pick<Intent, "kind" | "counterparty" | "amount">,
  policy: DeclaredPolicy,
  isOwn: (a: string) => boolean,
  importedAt: ImportedAt,
  now: number,
): void {
  const to = intent.counterparty;
  if (to === "") return;
  if (policy.denylist.includes(to)) throw deny("denylist", "the recipient is on the deny list");
  const isTransfer = intent.kind === "TRX_TRANSFER" || intent.kind === "USDT_TRANSFER";
  if (isTransfer && policy.allowlist.length > 0 && !policy.allowlist.includes(to) && !isOwn(to)) {
    throw deny("allowlist", "the recipient is not on the allow list");
  }
  if (
    (intent.kind === "DELEGATE" || intent.kind === "UNDELEGATE") &&
    policy.ownReceiversOnly &&
    !isOwn(to)
  ) {
    throw deny("delegate_receiver", "resources may only be delegated to the signer's own keys");
  }
  // A revoke (approve of 0) moves nothing: it may go to any spender.
  const grants =
    intent.kind === "DELEGATE" || (intent.kind === "USDT_APPROVE" && intent.amount > 0n);
  if (intent.kind === "USDT_APPROVE" && grants && policy.ownReceiversOnly && !isOwn(to)) {
    throw deny("approve_spender", "allowances may only be granted to the signer's own keys");
  }
  const imported = importedAt(to);
  if (grants && imported !== undefined && now < imported + policy.importedKeyCoolingOffMs) {
    throw deny(
      "imported_key_cooling_off",
      "the key was imported less than the cooling-off period ago; it may not receive allowances or delegations yet",
    );
  }
}

function decodeTokenCall(data: Uint8Array): Trc20Call {
  try {
    return decodeCall(data);
  } catch (err) {
    if (!(err instanceof TronDecodeError)) throw err;
    throw new AppError("signer.malformed_transaction", "the token call data does not decode", {
      cause: err,
      metadata: { code: err.code },
    });
  }
}

/** Resource and lock fields of stake and delegation contracts must match the intent. */
function checkStakeFields(raw: TxRaw, intent: Intent): void {
  const c = raw.contract;
  if ("resource" in c && c.resource !== intent.resource) {
    throw mismatch("resource", "the transaction's resource is not the intent's resource");
  }
  if (
    c.type === "DelegateResourceContract" &&
    (c.lock !== intent.lock || c.lockPeriod !== intent.lockPeriodBlocks)
  ) {
    throw mismatch("lock", "the delegation's lock is not the intent's lock");
  }
}
