import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import type { CommonQueryMethods } from "slonik";
import { AppError } from "../../shared/errors.js";
import { insertComplianceApproval } from "./repo.js";

/** The payout fields a compliance officer signs for a KYC payout. */
export interface KycApproval {
  walletId: string;
  recipient: string;
  asset: string;
  /** Base units. */
  amount: bigint;
  kycHash: string;
  /** ms since epoch. */
  expiresAt: number;
}

/**
 * The digest a compliance signature covers: sha256 of a JSON array of the payout's fields and
 * the signature's expiry, with a domain tag so it can never be mistaken for a transaction.
 */
export function kycDigest(a: KycApproval): Uint8Array {
  const fields = [
    "tronpay.kyc.v1",
    a.walletId,
    a.recipient,
    a.asset,
    a.amount.toString(),
    a.kycHash,
    a.expiresAt,
  ];
  return sha256(new TextEncoder().encode(JSON.stringify(fields)));
}

/** Configured compliance public keys by key_id ("" for the single legacy key). */
export type ComplianceKeys = ReadonlyMap<string, Uint8Array>;

/** A compliance signature as presented with a payout. */
export interface PresentedCompliance {
  /** 64-byte compact r‖s, hex. */
  signature: string;
  /** Which configured key signed; "" when exactly one key is configured. */
  keyId: string;
}

/** A verified approval: what a payout consumes (see consumeCompliance). */
export interface ComplianceApproval {
  digest: Uint8Array;
  keyId: string;
  expiresAt: number;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The compliance keys from config: TRONPAY_COMPLIANCE_PUBLIC_KEY (one key, key_id "") and
 * TRONPAY_COMPLIANCE_PUBLIC_KEYS ("key_id=hex" entries, for several keys and rotation: add the
 * new key, let signatures by the old one run out, remove it). Throws config.invalid.
 */
export function parseComplianceKeys(single: string, entries: readonly string[]): ComplianceKeys {
  const keys = new Map<string, Uint8Array>();
  const add = (id: string, text: string, what: string) => {
    let key: Uint8Array;
    try {
      key = hex.decode(text.toLowerCase());
      secp256k1.Point.fromBytes(key);
    } catch {
      throw new AppError("config.invalid", `${what} is not a secp256k1 public key in hex`);
    }
    if (keys.has(id)) throw new AppError("config.invalid", `compliance key_id "${id}" repeats`);
    keys.set(id, key);
  };
  if (single !== "") add("", single, "TRONPAY_COMPLIANCE_PUBLIC_KEY");
  for (const entry of entries) {
    const [id = "", text = ""] = entry.split("=", 2);
    if (!KEY_ID.test(id)) {
      throw new AppError(
        "config.invalid",
        `TRONPAY_COMPLIANCE_PUBLIC_KEYS entries are key_id=hex with a key_id of 1–64 of A-Z a-z 0-9 . _ -`,
      );
    }
    add(id, text, `compliance key "${id}"`);
  }
  return keys;
}

/**
 * Checks a KYC payout's compliance signature (64-byte compact r‖s hex, secp256k1 over the
 * digest) against the configured key it names; throws `payout.kyc_signature_invalid`. Returns
 * the approval, which the payout then consumes.
 */
export function verifyCompliance(
  keys: ComplianceKeys | undefined,
  a: KycApproval,
  presented: PresentedCompliance,
  now: number,
  field = "",
): ComplianceApproval {
  const fail = (message: string, at = "compliance_signature") =>
    new AppError("payout.kyc_signature_invalid", message, {
      metadata: { field: `${field}${at}` },
    });
  const publicKey = pickKey(keys, presented.keyId, fail);
  if (!/^[0-9a-fA-F]{64}$/.test(a.kycHash)) throw fail("kyc_hash must be 64 hex characters");
  if (!Number.isFinite(a.expiresAt) || a.expiresAt <= now)
    throw fail("the compliance signature has expired");
  if (!/^[0-9a-fA-F]{128}$/.test(presented.signature))
    throw fail("the compliance signature must be 64 bytes of hex");
  const digest = kycDigest(a);
  let ok = false;
  try {
    ok = secp256k1.verify(hex.decode(presented.signature.toLowerCase()), digest, publicKey, {
      prehash: false,
    });
  } catch {
    ok = false;
  }
  if (!ok) throw fail("the compliance signature does not match this payout");
  return { digest, keyId: presented.keyId, expiresAt: a.expiresAt };
}

function pickKey(
  keys: ComplianceKeys | undefined,
  keyId: string,
  fail: (message: string, at?: string) => AppError,
): Uint8Array {
  if (!keys || keys.size === 0) throw fail("KYC payouts are not configured (no compliance key)");
  if (keyId === "") {
    const [only] = keys.values();
    if (keys.size === 1 && only) return only;
    throw fail(
      "compliance_signature.key_id is required: several compliance keys are configured",
      "compliance_signature.key_id",
    );
  }
  const key = keys.get(keyId);
  if (!key) throw fail("no compliance key with that key_id", "compliance_signature.key_id");
  return key;
}

/**
 * Records that payout `payoutId` used `approval`, in the payout's transaction; throws
 * `payout.kyc_signature_reused` when a payout already did. One signed approval pays once: the
 * primary key on the digest holds against concurrent requests and other replicas too (a second
 * insert waits for the first transaction and then finds its row).
 */
export async function consumeCompliance(
  tx: CommonQueryMethods,
  approval: ComplianceApproval,
  payoutId: string,
  field = "",
): Promise<void> {
  const inserted = await insertComplianceApproval(tx, {
    digest: approval.digest,
    keyId: approval.keyId,
    payoutId,
    expiresAt: approval.expiresAt,
  });
  if (!inserted) {
    throw new AppError(
      "payout.kyc_signature_reused",
      "this compliance signature was already used by another payout; each approval pays once",
      { metadata: { field: `${field}compliance_signature` } },
    );
  }
}
