import { createRequire } from "node:module";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import type { AddressBytes } from "../shared/address.js";
import { TronDecodeError } from "./decode-error.js";
import { hexToBytes } from "./hex.js";
import { addressFromPublicKey } from "./keys.js";
import { bytesEqual } from "./values.js";

interface NativeSecp256k1 {
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number };
}

/**
 * The native libsecp256k1 binding (npm `secp256k1`, prebuilt), used for signing when it loads:
 * about 20× faster than pure JS, which the signer needs for thousands of signatures a second.
 * Only the native binding is taken, never the package's JavaScript fallback; without it noble
 * signs. TRONPAY_SECP256K1=noble forces noble (benchmarks compare both).
 */
const native: NativeSecp256k1 | undefined = loadNative();

/** Which implementation signs: "libsecp256k1" or "noble". */
export const signingBackend = native ? "libsecp256k1" : "noble";

function loadNative(): NativeSecp256k1 | undefined {
  if (process.env.TRONPAY_SECP256K1 === "noble") return undefined;
  try {
    const binding = createRequire(import.meta.url)("secp256k1/bindings") as NativeSecp256k1;
    return typeof binding.ecdsaSign === "function" ? binding : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Signs a txID (32 bytes or 64 hex chars) with secp256k1, RFC 6979 deterministic, low-S,
 * over the txID bytes themselves (no further hash). Returns 65 bytes r‖s‖v with v = 27/28,
 * as tronweb writes it.
 */
export function signTxId(txId: string | Uint8Array, privateKey: Uint8Array): Uint8Array {
  const digest = txIdBytes(txId);
  if (native) {
    // libsecp256k1 signs with RFC 6979 nonces and normalizes to low-S: the same bytes as noble.
    const { signature, recid } = native.ecdsaSign(digest, privateKey);
    const out = new Uint8Array(65);
    out.set(signature, 0);
    out[64] = recid + 27;
    return out;
  }
  // noble's "recovered" format puts the recovery id first; TRON puts it last, plus 27.
  const rec = secp256k1.sign(digest, privateKey, { prehash: false, format: "recovered" });
  const out = new Uint8Array(65);
  out.set(rec.subarray(1), 0);
  out[64] = (rec[0] as number) + 27;
  return out;
}

/**
 * Recovers the address that signed a txID. Accepts v ∈ {0,1,27,28} and hex of any case (as
 * java-tron does; high-S is accepted too). Throws TronDecodeError("bad_signature") otherwise.
 */
export function recoverSigner(
  txId: string | Uint8Array,
  signature: Uint8Array | string,
): AddressBytes {
  const digest = txIdBytes(txId);
  const sig = signatureBytes(signature);
  const v = sig[64] as number;
  const recovery = v >= 27 ? v - 27 : v;
  if (recovery !== 0 && recovery !== 1) {
    throw new TronDecodeError("bad_signature", `signature v=${v} is not 0, 1, 27 or 28`);
  }
  const rec = new Uint8Array(65);
  rec[0] = recovery;
  rec.set(sig.subarray(0, 64), 1);
  let pub: Uint8Array;
  try {
    pub = secp256k1.recoverPublicKey(rec, digest, { prehash: false });
  } catch (cause) {
    throw Object.assign(
      new TronDecodeError("bad_signature", "no public key recovers from signature"),
      {
        cause,
      },
    );
  }
  return addressFromPublicKey(pub);
}

/** True when `signature` over `txId` recovers to `owner`; false for any bad signature. */
export function verifySignature(
  txId: string | Uint8Array,
  signature: Uint8Array | string,
  owner: AddressBytes,
): boolean {
  try {
    return bytesEqual(recoverSigner(txId, signature), owner);
  } catch (err) {
    if (err instanceof TronDecodeError && err.code === "bad_signature") return false;
    throw err;
  }
}

function txIdBytes(txId: string | Uint8Array): Uint8Array {
  const bytes = typeof txId === "string" ? hexToBytes(txId, "txID") : txId;
  if (bytes.length !== 32) throw new TronDecodeError("bad_value", "txID must be 32 bytes");
  return bytes;
}

function signatureBytes(signature: Uint8Array | string): Uint8Array {
  const bytes =
    typeof signature === "string" ? hexToBytes(signature, "signature", "bad_signature") : signature;
  if (bytes.length !== 65) throw new TronDecodeError("bad_signature", "signature must be 65 bytes");
  return bytes;
}
