import { join } from "node:path";
import { hex } from "@scure/base";
import { describe, expect, it } from "vitest";
import { parseAddress, toBase58 } from "../shared/address.js";
import { AppError } from "../shared/errors.js";
import { newAccount } from "../tron/testing.js";
import { encodeApprove } from "../tron/trc20.js";
import { signTransaction } from "./flows.js";
import { encrypt, Keystore } from "./keystore.js";
import { intent, PASSPHRASE_FOR_TESTS, rawBytes, testPolicy, testSigner, usdt } from "./testing.js";

// An imported key is known to whoever handed it in: for the cooling-off period after its
// import the signer grants it no USDT allowance and delegates it no resources, even though it
// is one of the signer's own keys (issue 16, item 2).
const T0 = 1_800_000_000_000;
const DAY = 86_400_000;

async function refusal(p: Promise<unknown>): Promise<{ reason: string; rule?: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return { reason: err.reason, rule: err.metadata.rule };
    throw err;
  }
  return { reason: "signed" };
}

async function signerWithImportedKey() {
  const now = { value: T0 };
  const signer = await testSigner(now, testPolicy({ importedKeyCoolingOffMs: DAY }));
  const account = newAccount();
  const encrypted = await encrypt(hex.encode(account.priv), PASSPHRASE_FOR_TESTS);
  const key = await signer.deps.keystore.importEncrypted(encrypted, "known");
  return { ...signer, now, imported: key.address, encrypted };
}

function approve(owner: string, spender: string, amount: bigint, at: number) {
  return rawBytes(
    {
      type: "TriggerSmartContract",
      owner: parseAddress(owner),
      contract: parseAddress(usdt),
      callValue: 0n,
      data: encodeApprove(parseAddress(spender), amount),
      callTokenValue: 0n,
      tokenId: 0n,
    },
    at,
    { feeLimit: 30_000_000n },
  );
}

function approveIntent(owner: string, spender: string, amount: bigint, operationId: string) {
  return intent({
    operationId,
    owner,
    counterparty: spender,
    kind: "USDT_APPROVE",
    asset: "USDT",
    amount,
  });
}

describe("a key imported less than the cooling-off period ago", () => {
  it("gets no USDT allowance until the period has passed, and then gets one", async () => {
    const { deps, owner, imported, now } = await signerWithImportedKey();
    const early = await refusal(
      signTransaction(
        deps,
        approveIntent(owner, imported, 9_000n, "op-a"),
        approve(owner, imported, 9_000n, T0),
      ),
    );
    expect(early).toEqual({ reason: "signer.policy_denied", rule: "imported_key_cooling_off" });
    expect(deps.journal.size).toBe(0);
    now.value = T0 + DAY;
    const late = await refusal(
      signTransaction(
        deps,
        approveIntent(owner, imported, 9_000n, "op-b"),
        approve(owner, imported, 9_000n, now.value),
      ),
    );
    expect(late.reason).toBe("signed");
  });

  it("gets no delegation", async () => {
    const { deps, owner, imported } = await signerWithImportedKey();
    const raw = rawBytes(
      {
        type: "DelegateResourceContract",
        owner: parseAddress(owner),
        resource: "ENERGY",
        balance: 1_000_000n,
        receiver: parseAddress(imported),
        lock: false,
        lockPeriod: 0n,
      },
      T0,
    );
    const i = intent({
      owner,
      counterparty: imported,
      kind: "DELEGATE",
      resource: "ENERGY",
      amount: 1_000_000n,
    });
    expect(await refusal(signTransaction(deps, i, raw))).toEqual({
      reason: "signer.policy_denied",
      rule: "imported_key_cooling_off",
    });
  });

  it("may still have an allowance revoked (approve of 0), as may any spender", async () => {
    const { deps, owner, imported } = await signerWithImportedKey();
    const stranger = toBase58(newAccount().address);
    for (const [spender, id] of [
      [imported, "op-r1"],
      [stranger, "op-r2"],
    ] as const) {
      const result = await refusal(
        signTransaction(
          deps,
          approveIntent(owner, spender, 0n, id),
          approve(owner, spender, 0n, T0),
        ),
      );
      expect(result.reason).toBe("signed");
    }
  });

  it("keeps its import time across a reopen of the keystore, and an import again does not reset it", async () => {
    const { deps, dir, imported, encrypted, owner } = await signerWithImportedKey();
    expect(deps.keystore.importedAt(imported)).toBe(T0);
    expect(deps.keystore.importedAt(owner)).toBeUndefined();
    const reopened = await Keystore.open(
      join(dir, "keystore.age"),
      PASSPHRASE_FOR_TESTS,
      () => T0 + 5 * DAY,
    );
    expect(reopened.importedAt(imported)).toBe(T0);
    await reopened.importEncrypted(encrypted, "again");
    expect(reopened.importedAt(imported)).toBe(T0);
    expect(reopened.importedAt(toBase58(newAccount().address))).toBeUndefined();
  });
});
