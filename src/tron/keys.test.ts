import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hex } from "@scure/base";
import { utils as tronUtils } from "tronweb";
import { describe, expect, it } from "vitest";
import { toBase58 } from "../shared/address.js";
import { addressFromPrivateKey, addressFromPublicKey } from "./keys.js";

describe("addresses from keys", () => {
  it("matches tronweb's address for generated keys", () => {
    for (let i = 0; i < 10; i++) {
      const priv = secp256k1.utils.randomSecretKey();
      expect(toBase58(addressFromPrivateKey(priv))).toBe(
        tronUtils.crypto.pkToAddress(hex.encode(priv)),
      );
    }
  });

  it("gives the same address for the compressed and uncompressed public key", () => {
    const priv = secp256k1.utils.randomSecretKey();
    const a = addressFromPublicKey(secp256k1.getPublicKey(priv, true));
    const b = addressFromPublicKey(secp256k1.getPublicKey(priv, false));
    expect(a).toEqual(b);
    expect(a).toHaveLength(21);
    expect(a[0]).toBe(0x41);
  });

  it("refuses bytes that are not a curve point", () => {
    const bad = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), false);
    bad[64] = (bad[64] as number) ^ 1;
    expect(() => addressFromPublicKey(bad)).toThrow();
    expect(() => addressFromPublicKey(new Uint8Array(64))).toThrow();
  });
});
