import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { ADDRESS_PREFIX, type AddressBytes } from "../shared/address.js";

/** The TRON address of a 32-byte secp256k1 private key. */
export function addressFromPrivateKey(priv: Uint8Array): AddressBytes {
  return addressFromPublicKey(secp256k1.getPublicKey(priv, false));
}

/**
 * The TRON address of a secp256k1 public key (33 bytes compressed or 65 uncompressed):
 * 0x41 ‖ keccak256(X‖Y)[12..32]. Throws on a key that is not a point on the curve.
 */
export function addressFromPublicKey(pub: Uint8Array): AddressBytes {
  // Parsing also validates the point, so a malformed key cannot yield an address.
  const uncompressed = secp256k1.Point.fromBytes(pub).toBytes(false);
  const hash = keccak_256(uncompressed.subarray(1));
  const out = new Uint8Array(21);
  out[0] = ADDRESS_PREFIX;
  out.set(hash.subarray(12), 1);
  return out;
}
