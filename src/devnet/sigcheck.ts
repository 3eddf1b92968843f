import native from "secp256k1";
import { toHex41 } from "../shared/address.js";
import { addressFromPublicKey } from "../tron/keys.js";
import { recoverSigner } from "../tron/signature.js";

/**
 * Signature checks at broadcast speed. Public-key recovery in pure JS (src/tron/signature.ts)
 * costs ~1.7 ms, which alone would cap the devnet near 600 broadcasts/s; native libsecp256k1
 * (the `secp256k1` package's prebuilt binding) recovers in ~0.05 ms (its WebAssembly build,
 * tiny-secp256k1, measured ~0.26 ms). Both compute the same point, so the answer is
 * java-tron's recover-and-compare either way. Anything libsecp256k1 refuses goes to the
 * reference implementation, which accepts what java-tron accepts.
 */

// Deriving an address through noble (point parse, keccak) costs as much as the recovery; a
// devnet sees few distinct signers, so their addresses are remembered by public key.
const addresses = new Map<string, string>();
const MAX_CACHED = 10_000;

function addressOf(pub: Uint8Array): string {
  const key = Buffer.from(pub).toString("hex");
  let address = addresses.get(key);
  if (address === undefined) {
    address = toHex41(addressFromPublicKey(pub));
    if (addresses.size >= MAX_CACHED) addresses.clear();
    addresses.set(key, address);
  }
  return address;
}

/** The 41-hex address that signed `txId`; throws like recoverSigner on a bad signature. */
export function signerOf(txId: Uint8Array, signature: Uint8Array): string {
  const v = signature[64] ?? 255;
  const recovery = v >= 27 ? v - 27 : v;
  if (signature.length === 65 && (recovery === 0 || recovery === 1)) {
    let pub: Uint8Array | null = null;
    try {
      pub = native.ecdsaRecover(signature.subarray(0, 64), recovery, txId, false);
    } catch {
      pub = null;
    }
    if (pub) return addressOf(pub);
  }
  return toHex41(recoverSigner(txId, signature));
}
