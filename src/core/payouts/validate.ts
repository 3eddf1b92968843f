import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { normalizeAddress } from "../../shared/address.js";
import { AppError } from "../../shared/errors.js";
import { parsePositiveAmount } from "../../shared/money.js";
import { verifyCompliance } from "./compliance.js";

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
  compliancePublicKey?: Uint8Array;
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
  compliance?: { signature: string; expiresAt: number };
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
}

const Wallet = z.object({ id: z.string(), address: z.string() });
const Payee = z.object({
  address: z.string(),
  allowlisted: z.boolean(),
  address_usable_at: z.number(),
});

function invalid(field: string, message: string): AppError {
  return new AppError("request.invalid", message, { metadata: { field } });
}

/**
 * Validates one payout (a single one or a batch item; `field` prefixes error fields) against
 * the database and the rules. Throws AppErrors with stable reasons; writes nothing.
 */
export async function validatePayout(
  db: CommonQueryMethods,
  rules: PayoutRules,
  input: PayoutInput,
  now: number,
  field = "",
): Promise<ValidPayout> {
  const f = (name: string) => `${field}${name}`;
  if (input.asset === "")
    throw new AppError("money.asset_unspecified", "amount.asset is required", {
      metadata: { field: f("amount.asset") },
    });
  const amount = parsePositiveAmount(input.amount, f("amount.value"));
  if (input.route === "") throw invalid(f("route"), "route is required");
  if (input.priority < 0 || input.priority > 4) throw invalid(f("priority"), "unknown priority");
  if (input.memo.length > 200) throw invalid(f("memo"), "memo must be at most 200 characters");
  if (input.clientReference.length > 128)
    throw invalid(f("client_reference"), "client_reference must be at most 128 characters");
  const entries = Object.entries(input.metadata);
  if (entries.length > 20 || entries.some(([k, v]) => k.length > 40 || v.length > 500)) {
    throw invalid(f("metadata"), "metadata allows 20 keys of ≤ 40 characters with values of ≤ 500");
  }
  if (input.walletId === "") throw invalid(f("wallet_id"), "wallet_id is required");
  const wallet = await db.maybeOne(
    sql.type(Wallet)`SELECT id, address FROM wallets WHERE id = ${input.walletId}`,
  );
  if (!wallet)
    throw new AppError("request.not_found", "no wallet with that id", {
      metadata: { field: f("wallet_id") },
    });

  const { recipient, payeeTag } = await resolveRecipient(db, input, now, f);
  const own = await db.maybeOneFirst(
    sql.type(z.object({ id: z.string() }))`SELECT id FROM wallets WHERE address = ${recipient}`,
  );
  if (own) {
    throw new AppError(
      "payout.recipient_is_own_wallet",
      "the recipient is one of our own wallets",
      { metadata: { field: f("recipient") } },
    );
  }
  const limits = rules.limits[input.route];
  if (amount > limits.maxPerPayout) {
    throw new AppError(
      "payout.limit_exceeded",
      `the amount is above the ${input.route} per-payout limit`,
      {
        metadata: { field: f("amount.value"), limit: "per_payout" },
      },
    );
  }
  if (input.route === "KYC") {
    verifyCompliance(
      rules.compliancePublicKey,
      {
        walletId: wallet.id,
        recipient,
        asset: input.asset,
        amount,
        kycHash: input.kycHash.toLowerCase(),
        expiresAt: input.compliance?.expiresAt ?? 0,
      },
      input.compliance?.signature ?? "",
      now,
    );
  }
  return {
    walletId: wallet.id,
    ownerAddress: wallet.address,
    recipientAddress: recipient,
    payeeTag,
    asset: input.asset,
    amount,
    route: input.route,
    priority: input.priority === 0 ? 2 : input.priority,
    memo: input.memo,
    clientReference: input.clientReference,
    metadata: input.metadata,
    kycHash: input.route === "KYC" ? input.kycHash.toLowerCase() : null,
    approvalRequired: amount > rules.approvalThreshold,
  };
}

async function resolveRecipient(
  db: CommonQueryMethods,
  input: PayoutInput,
  now: number,
  f: (n: string) => string,
) {
  if (input.recipientAddress !== "" && input.payeeTag !== "") {
    throw invalid(f("recipient"), "give either recipient_address or payee_tag, not both");
  }
  if (input.payeeTag === "") {
    if (input.recipientAddress === "")
      throw invalid(f("recipient"), "recipient_address or payee_tag is required");
    if (input.route === "DIRECT")
      throw invalid(f("payee_tag"), "DIRECT payouts go to allowlisted payees by tag");
    return {
      recipient: normalizeAddress(input.recipientAddress, f("recipient_address")),
      payeeTag: null,
    };
  }
  const payee = await db.maybeOne(sql.type(Payee)`
    SELECT address, allowlisted, address_usable_at FROM payees WHERE tag = ${input.payeeTag} AND deleted_at IS NULL`);
  if (!payee)
    throw new AppError("request.not_found", "no payee with that tag", {
      metadata: { field: f("payee_tag") },
    });
  if (input.route === "DIRECT") {
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
  return { recipient: payee.address, payeeTag: input.payeeTag };
}
