import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hex } from "@scure/base";
import { utils as tronUtils } from "tronweb";
import { describe, expect, it } from "vitest";
import { parseAddress, toHex41 } from "../shared/address.js";
import {
  MAINNET_FREEZE_V2,
  MAINNET_TRX_WITH_MEMO,
  MAINNET_UNDELEGATE,
  NILE_TRC20_TRANSFER,
} from "./real-transactions.fixture.js";
import { recoverSigner, signTxId, verifySignature } from "./signature.js";
import { newAccount } from "./testing.js";
import { TronDecodeError } from "./transaction.js";

const randomTxId = () => hex.encode(crypto.getRandomValues(new Uint8Array(32)));

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof TronDecodeError ? err.code : `not a TronDecodeError: ${String(err)}`;
  }
  return undefined;
}

describe("real signatures", () => {
  it("recovers the Nile transfer's owner from a v = 0 signature", () => {
    const sig = hex.decode(NILE_TRC20_TRANSFER.signature as string);
    expect(sig[64]).toBe(0);
    expect(toHex41(recoverSigner(NILE_TRC20_TRANSFER.txId, sig))).toBe(NILE_TRC20_TRANSFER.owner);
  });

  it.each(
    [MAINNET_FREEZE_V2, MAINNET_UNDELEGATE, MAINNET_TRX_WITH_MEMO].map((t) => [t.txId, t] as const),
  )("recovers the owner of mainnet transaction %s (v = 1)", (_, t) => {
    expect(verifySignature(t.txId, t.signature as string, parseAddress(t.owner))).toBe(true);
  });
});

describe("signTxId", () => {
  it("signs so that the signature recovers to the key's address, with v 27 or 28", () => {
    for (let i = 0; i < 20; i++) {
      const { priv, address } = newAccount();
      const txId = randomTxId();
      const sig = signTxId(txId, priv);
      expect(sig).toHaveLength(65);
      expect([27, 28]).toContain(sig[64]);
      expect(recoverSigner(txId, sig)).toEqual(address);
      expect(verifySignature(hex.decode(txId), sig, address)).toBe(true);
    }
  });

  it("is deterministic and byte-identical to tronweb's signature", () => {
    const { priv } = newAccount();
    const txId = randomTxId();
    const ours = signTxId(txId, priv);
    expect(signTxId(hex.decode(txId), priv)).toEqual(ours);
    const signed = tronUtils.crypto.signTransaction(hex.encode(priv), {
      txID: txId,
    } as never) as unknown as {
      signature: string[];
    };
    expect(signed.signature[0]?.toLowerCase()).toBe(hex.encode(ours));
  });

  it("produces low-S signatures", () => {
    const { priv } = newAccount();
    const sig = signTxId(randomTxId(), priv);
    const s = BigInt(`0x${hex.encode(sig.subarray(32, 64))}`);
    expect(s <= secp256k1.Point.CURVE().n / 2n).toBe(true);
  });
});

describe("recoverSigner input forms", () => {
  const { priv, address } = newAccount();
  const txId = randomTxId();
  const sig = signTxId(txId, priv);
  const v01 = Uint8Array.from(sig);
  v01[64] = (sig[64] as number) - 27;

  it("accepts v as 0/1 as well as 27/28", () => {
    expect(recoverSigner(txId, v01)).toEqual(address);
  });

  it("accepts upper-case, lower-case and 0x-prefixed hex for signature and txID", () => {
    expect(recoverSigner(txId.toUpperCase(), hex.encode(sig).toUpperCase())).toEqual(address);
    expect(recoverSigner(txId, `0x${hex.encode(v01)}`)).toEqual(address);
  });

  it("accepts a high-S signature as java-tron does", () => {
    const n = secp256k1.Point.CURVE().n;
    const s = BigInt(`0x${hex.encode(sig.subarray(32, 64))}`);
    const high = Uint8Array.from(sig);
    high.set(hex.decode((n - s).toString(16).padStart(64, "0")), 32);
    high[64] = (sig[64] as number) === 27 ? 28 : 27;
    expect(recoverSigner(txId, high)).toEqual(address);
  });

  it.each([
    ["v = 2", Uint8Array.from([...sig.subarray(0, 64), 2])],
    ["v = 29", Uint8Array.from([...sig.subarray(0, 64), 29])],
    ["64 bytes", sig.subarray(0, 64)],
    ["66 bytes", Uint8Array.from([...sig, 0])],
    ["r = 0", Uint8Array.from([...new Uint8Array(32), ...sig.subarray(32)])],
    ["non-hex text", "zz".repeat(65)],
    ["odd-length hex", `${hex.encode(sig)}0`],
  ] as const)("refuses a signature with %s", (_, bad) => {
    expect(codeOf(() => recoverSigner(txId, bad))).toBe("bad_signature");
    expect(verifySignature(txId, bad, address)).toBe(false);
  });

  it("says false for a valid signature by another key", () => {
    expect(verifySignature(txId, sig, newAccount().address)).toBe(false);
  });

  it("refuses a txID that is not 32 bytes", () => {
    expect(codeOf(() => recoverSigner(txId.slice(2), sig))).toBe("bad_value");
  });
});

describe("the signing backend", () => {
  it("produces exactly noble's RFC 6979 low-S signature, whichever backend signs", async () => {
    const { secp256k1 } = await import("@noble/curves/secp256k1.js");
    const { signTxId } = await import("./signature.js");
    for (let i = 0; i < 50; i++) {
      const key = secp256k1.utils.randomSecretKey();
      const digest = secp256k1.utils.randomSecretKey();
      const rec = secp256k1.sign(digest, key, { prehash: false, format: "recovered" });
      const expected = new Uint8Array([...rec.subarray(1), (rec[0] as number) + 27]);
      expect(signTxId(digest, key)).toEqual(expected);
    }
  });
});
