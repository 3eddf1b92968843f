import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { AppError } from "../../shared/errors.js";

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

/**
 * Checks a KYC payout's compliance signature (64-byte compact r‖s hex, secp256k1 over the
 * digest) against the configured key; throws `payout.kyc_signature_invalid`.
 */
export function verifyCompliance(
  publicKey: Uint8Array | undefined,
  a: KycApproval,
  signatureHex: string,
  now: number,
): void {
  const fail = (message: string) =>
    new AppError("payout.kyc_signature_invalid", message, {
      metadata: { field: "compliance_signature" },
    });
  if (!publicKey) throw fail("KYC payouts are not configured (no compliance key)");
  if (!/^[0-9a-fA-F]{64}$/.test(a.kycHash)) throw fail("kyc_hash must be 64 hex characters");
  if (!Number.isFinite(a.expiresAt) || a.expiresAt <= now)
    throw fail("the compliance signature has expired");
  if (!/^[0-9a-fA-F]{128}$/.test(signatureHex))
    throw fail("the compliance signature must be 64 bytes of hex");
  let ok = false;
  try {
    ok = secp256k1.verify(hex.decode(signatureHex.toLowerCase()), kycDigest(a), publicKey, {
      prehash: false,
    });
  } catch {
    ok = false;
  }
  if (!ok) throw fail("the compliance signature does not match this payout");
}
