import { ed25519 } from "@noble/curves/ed25519.js";

/**
 * An audit checkpoint: the audit chain's head (seq and hash) signed by the signer's audit key
 * (Ed25519). The signer signs and journals it; core and `tronpay audit verify` check it.
 */
export interface AuditCheckpoint {
  seq: bigint;
  /** Lowercase hex hash of the entry at seq. */
  hash: string;
  /** When the signer signed it, ms since the epoch (by the signer's clock). */
  signedAtMs: number;
  /** 64-byte Ed25519 signature over checkpointMessage. */
  signature: Uint8Array;
}

const HASH = /^[0-9a-f]{64}$/;

/** The bytes a checkpoint's signature covers. */
export function checkpointMessage(seq: bigint, hash: string, signedAtMs: number): Uint8Array {
  return new TextEncoder().encode(`tronpay audit checkpoint v1\n${seq}\n${hash}\n${signedAtMs}`);
}

/** True when the checkpoint is well formed and signed by publicKey. */
export function checkpointValid(c: AuditCheckpoint, publicKey: Uint8Array): boolean {
  if (c.seq < 1n || !HASH.test(c.hash) || c.signature.length !== 64) return false;
  try {
    return ed25519.verify(c.signature, checkpointMessage(c.seq, c.hash, c.signedAtMs), publicKey);
  } catch {
    return false;
  }
}

/** True for a lowercase hex chain hash. */
export function isChainHash(hash: string): boolean {
  return HASH.test(hash);
}
