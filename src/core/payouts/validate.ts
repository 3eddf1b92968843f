import type { CommonQueryMethods } from "slonik";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { normalizeAddress } from "../../shared/address.js";
import { AppError } from "../../shared/errors.js";
import { parsePositiveAmount } from "../../shared/money.js";
import { refuseWhatSignerRefuses, type SignerPolicyView } from "../operations/signer-policy.js";
import { findPayeeRow } from "../payees/repo.js";
import { isOwnWallet, walletOrThrow } from "../wallets/repo.js";
import { type ComplianceApproval, type ComplianceKeys, verifyCompliance } from "./compliance.js";

/** Limits per route, in base units of the payout's asset. */
export interface RouteLimits {
  maxPerPayout: bigint;
  maxPerDay: bigint;
}

/** Payout rules from config. */
export interface PayoutRules {
  limits: Readonly<Record<"V0" | "KYC" | "DIRECT", RouteLimits>>;
  /** Above this (base units) a second principal must approve. */
  approvalThreshold: bigint;
  /** Compliance keys by key_id (see parseComplianceKeys); none: KYC payouts are refused. */
  complianceKeys?: ComplianceKeys;
  /** The signer's policy: what it would refuse is refused at accept time with its reason. */
  signerPolicy?: SignerPolicyView;
}

/** A payout request in domain terms, before validation. */
export interface PayoutInput {
  walletId: string;
  recipientAddress: string;
  payeeTag: string;
  asset: "TRX" | "USDT" | "";
  amount: string;
  route: "V0" | "KYC" | "DIRECT" | "";
  priority: number;
  memo: string;
  clientReference: string;
  metadata: Record<string, string>;
  kycHash: string;
  compliance?: { signature: string; expiresAt: number; keyId: string };
}

/** A validated payout, ready to store. */
export interface ValidPayout {
  walletId: string;
  ownerAddress: string;
  recipientAddress: string;
  payeeTag: string | null;
  asset: "TRX" | "USDT";
  amount: bigint;
  route: "V0" | "KYC" | "DIRECT";
  priority: number;
  memo: string;
  clientReference: string;
  metadata: Record<string, string>;
  kycHash: string | null;
  approvalRequired: boolean;
  /** A KYC payout's verified approval, consumed when the payout is stored; null otherwise. */
  compliance: ComplianceApproval | null;
}

function invalid(field: string, message: string): AppError {
  return new AppError("request.invalid", message, { metadata: { field } });
}

/** Every check of the request's own fields; the amount when they all pass. */
function checkFields(
  input: PayoutInput,
  f: (name: string) => string,
):
  | {
      amount: bigint;
      asset: "TRX" | "USDT";
      route: "V0" | "KYC" | "DIRECT";
      /** Normalized; null when the payout goes to a payee tag. */
      recipientAddress: string | null;
    }
  | { violations: AppError[] } {
  const violations: AppError[] = [];
  const check = (test: () => void) => {
    try {
      test();
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      violations.push(err);
    }
  };
  let amount = 0n;
  let recipientAddress: string | null = null;
  if (input.asset === "")
    violations.push(
      new AppError("money.asset_unspecified", "amount.asset is required", {
        metadata: { field: f("amount.asset") },
      }),
    );
  check(() => {
    amount = parsePositiveAmount(input.amount, f("amount.value"));
  });
  if (input.route === "") violations.push(invalid(f("route"), "route is required"));
  if (input.priority < 0 || input.priority > 4)
    violations.push(invalid(f("priority"), "unknown priority"));
  if (input.memo.length > 200)
    violations.push(invalid(f("memo"), "memo must be at most 200 characters"));
  if (input.clientReference.length > 128)
    violations.push(
      invalid(f("client_reference"), "client_reference must be at most 128 characters"),
    );
  const entries = Object.entries(input.metadata);
  if (entries.length > 20 || entries.some(([k, v]) => k.length > 40 || v.length > 500)) {
    violations.push(
      invalid(f("metadata"), "metadata allows 20 keys of ≤ 40 characters with values of ≤ 500"),
    );
  }
  if (input.walletId === "") violations.push(invalid(f("wallet_id"), "wallet_id is required"));
  if (input.recipientAddress !== "" && input.payeeTag !== "") {
    violations.push(
      invalid(f("recipient"), "give either recipient_address or payee_tag, not both"),
    );
  } else if (input.payeeTag === "") {
    if (input.recipientAddress === "")
      violations.push(invalid(f("recipient"), "recipient_address or payee_tag is required"));
    else
      check(() => {
        recipientAddress = normalizeAddress(input.recipientAddress, f("recipient_address"));
      });
    if (input.route === "DIRECT")
      violations.push(invalid(f("payee_tag"), "DIRECT payouts go to allowlisted payees by tag"));
  }
  const { asset, route } = input;
  if (violations.length > 0 || asset === "" || route === "") return { violations };
  return { amount, asset, route, recipientAddress };
}

/** The first violation, with every violation as google.rpc.BadRequest field violations. */
function allViolations(violations: readonly AppError[]): AppError {
  const first = violations[0] as AppError;
  return new AppError(first.reason, first.message, {
    metadata: first.metadata,
    details: [
      {
        desc: BadRequestSchema,
        value: {
          fieldViolations: violations.map((v) => ({
            field: v.metadata.field ?? "",
            description: v.message,
            reason: v.reason,
          })),
        },
      },
    ],
  });
}

/**
 * The checks of a payout's own fields, which need no database (validatePayout runs them first;
 * batches run them for every item before opening a transaction). Throws the first violation
 * with every bad field in a google.rpc.BadRequest.
 */
export function checkPayoutFields(input: PayoutInput, field = "") {
  const checked = checkFields(input, (name) => `${field}${name}`);
  if ("violations" in checked) throw allViolations(checked.violations);
  return checked;
}

/**
 * Validates one payout (a single one or a batch item; `field` prefixes error fields) against
 * the database and the rules. Throws AppErrors with stable reasons; writes nothing. The checks
 * that need no database run first, all of them: the error is the first one found, and carries
 * every bad field in a google.rpc.BadRequest, so a client fixes them in one go.
 */
export async function validatePayout(
  db: CommonQueryMethods,
  rules: PayoutRules,
  input: PayoutInput,
  now: number,
  field = "",
): Promise<ValidPayout> {
  const { amount, asset, route, recipientAddress } = checkPayoutFields(input, field);
  const f = (name: string) => `${field}${name}`;
  // With a recipient address, whether it is one of our wallets comes with the wallet (one query).
  const wallet = await walletOrThrow(db, input.walletId, {
    field: f("wallet_id"),
    reason: "request.not_found",
    ownsAddress: recipientAddress,
  });

  const { recipient, payeeTag } =
    recipientAddress !== null
      ? { recipient: recipientAddress, payeeTag: null }
      : await payeeRecipient(db, input.payeeTag, route, now, f);
  const own = wallet.owns_address ?? (await isOwnWallet(db, recipient));
  if (own) {
    throw new AppError(
      "payout.recipient_is_own_wallet",
      "the recipient is one of our own wallets",
      { metadata: { field: f("recipient") } },
    );
  }
  const limits = rules.limits[route];
  if (amount > limits.maxPerPayout) {
    throw new AppError(
      "payout.limit_exceeded",
      `the amount is above the ${route} per-payout limit`,
      {
        metadata: { field: f("amount.value"), limit: "per_payout" },
      },
    );
  }
  const compliance =
    route !== "KYC"
      ? null
      : verifyCompliance(
          rules.complianceKeys,
          {
            walletId: wallet.id,
            recipient,
            asset,
            amount,
            kycHash: input.kycHash.toLowerCase(),
            expiresAt: input.compliance?.expiresAt ?? 0,
          },
          {
            signature: input.compliance?.signature ?? "",
            keyId: input.compliance?.keyId ?? "",
          },
          now,
          field,
        );
  await refuseWhatSignerRefuses(
    rules.signerPolicy,
    { kind: `${asset}_TRANSFER`, counterparty: recipient, amount, memo: input.memo },
    now,
  ).catch((err: unknown) => {
    if (err instanceof AppError) err.metadata.field ??= f(fieldOfRule(err.metadata.rule));
    throw err;
  });
  return {
    walletId: wallet.id,
    ownerAddress: wallet.address,
    recipientAddress: recipient,
    payeeTag,
    asset,
    amount,
    route,
    priority: input.priority === 0 ? 2 : input.priority,
    memo: input.memo,
    clientReference: input.clientReference,
    metadata: input.metadata,
    kycHash: route === "KYC" ? input.kycHash.toLowerCase() : null,
    approvalRequired: amount > rules.approvalThreshold,
    compliance,
  };
}

/** The request field a signer policy rule is about. */
function fieldOfRule(rule: string | undefined): string {
  if (rule === "memo") return "memo";
  if (rule === "max_per_tx") return "amount.value";
  return "recipient";
}

/** The address of the payee `tag` (checkFields made sure a tag is what was given). */
async function payeeRecipient(
  db: CommonQueryMethods,
  tag: string,
  route: "V0" | "KYC" | "DIRECT",
  now: number,
  f: (n: string) => string,
) {
  const found = await findPayeeRow(db, tag);
  const payee = found?.deleted_at === null ? found : null;
  if (!payee)
    throw new AppError("request.not_found", "no payee with that tag", {
      metadata: { field: f("payee_tag") },
    });
  if (route === "DIRECT") {
    if (!payee.allowlisted)
      throw new AppError(
        "payout.invalid_state",
        "the payee is not allowlisted for DIRECT payouts",
        { metadata: { field: f("payee_tag") } },
      );
    if (payee.address_usable_at > now) {
      throw new AppError(
        "payout.invalid_state",
        "the payee's address is still in its cooling-off period",
        { metadata: { field: f("payee_tag") } },
      );
    }
  }
  return { recipient: payee.address, payeeTag: tag };
}
