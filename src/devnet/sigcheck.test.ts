import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hex } from "@scure/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex41 } from "../shared/address.js";
import { addressFromPrivateKey } from "../tron/keys.js";
import { recoverSigner, signTxId } from "../tron/signature.js";
import { signerOf } from "./sigcheck.js";

const CURVE_N = secp256k1.Point.CURVE().n;

describe("signerOf (libsecp256k1 fast path)", () => {
  it("recovers the owner of a real Nile transaction signed with v = 0 (TRON.md)", () => {
    const txId = hex.decode("c70b20da8cb8d96a99c1aceb283412acb9dea313a9e467178431a3c6ae8b9f08");
    const sig = hex.decode(
      "1788bf0281f67c42f5a09322523edee9969e808a863776f21ab6543de9dd42ca0e4955577879df8074086c620eb96709ba9a95d60a166de190a081e8d69801da00",
    );
    expect(signerOf(txId, sig)).toBe("41495511a493d8c362be4267224e6d81013a6862ee");
  });

  it("agrees with the reference recovery for random keys and txIDs", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (txId) => {
        const priv = secp256k1.utils.randomSecretKey();
        const sig = signTxId(txId, priv);
        const signer = signerOf(txId, sig);
        expect(signer).toBe(toHex41(recoverSigner(txId, sig)));
        expect(signer).toBe(toHex41(addressFromPrivateKey(priv)));
      }),
      { numRuns: 25 },
    );
  });

  it("accepts a high-S signature as java-tron does", () => {
    const priv = secp256k1.utils.randomSecretKey();
    const txId = secp256k1.utils.randomSecretKey();
    const sig = signTxId(txId, priv);
    const s = BigInt(`0x${hex.encode(sig.subarray(32, 64))}`);
    const high = new Uint8Array(sig);
    high.set(hex.decode((CURVE_N - s).toString(16).padStart(64, "0")), 32);
    high[64] = (sig[64] as number) === 27 ? 28 : 27;
    expect(signerOf(txId, high)).toBe(toHex41(addressFromPrivateKey(priv)));
  });

  it("throws for a v outside 0, 1, 27, 28", () => {
    const sig = signTxId(new Uint8Array(32).fill(7), secp256k1.utils.randomSecretKey());
    sig[64] = 5;
    expect(() => signerOf(new Uint8Array(32).fill(7), sig)).toThrow();
  });
});
