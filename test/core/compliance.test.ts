import { randomUUID } from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { kycDigest, parseComplianceKeys } from "../../src/core/payouts/compliance.js";
import { BatchInvalid, createBatch, createPayout } from "../../src/core/payouts/flows.js";
import type { PayoutInput, PayoutRules } from "../../src/core/payouts/validate.js";
import { reasonOf } from "../../src/shared/errors.js";
import { newTestAccount } from "../devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { insertPayoutWallet, payoutInput, USDT, uniformRules } from "../helpers/payout-db.js";

/**
 * KYC compliance signatures are single use and name the key that made them: through the
 * payout flows on the real database and migrations.
 */

const wallet = { id: "wal_kyc", address: newTestAccount().address };
const officer = secp256k1.utils.randomSecretKey();
const rotated = secp256k1.utils.randomSecretKey();
const pub = (k: Uint8Array) => hex.encode(secp256k1.getPublicKey(k));
const base = uniformRules(1_000n * USDT, 1_000_000n * USDT, 1_000n * USDT);
const oneKey: PayoutRules = { ...base, complianceKeys: parseComplianceKeys(pub(officer), []) };
const twoKeys: PayoutRules = {
  ...base,
  complianceKeys: parseComplianceKeys("", [`2026a=${pub(officer)}`, `2026b=${pub(rotated)}`]),
};
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await insertPayoutWallet(db, wallet);
}, 30_000);

afterAll(async () => {
  await db?.drop();
});

/** A KYC payout of `amount` USDT to a new address, signed by `signer` (naming `keyId`). */
function kycPayout(amount: string, signer = officer, keyId = ""): PayoutInput {
  const to = newTestAccount().address;
  const kycHash = hex.encode(sha256(new TextEncoder().encode(`kyc record of ${to}`)));
  const expiresAt = Date.now() + 600_000;
  const digest = kycDigest({
    walletId: wallet.id,
    recipient: to,
    asset: "USDT",
    amount: BigInt(amount) * USDT,
    kycHash,
    expiresAt,
  });
  const signature = hex.encode(secp256k1.sign(digest, signer, { prehash: false }));
  return payoutInput(wallet.id, {
    recipientAddress: to,
    amount,
    route: "KYC",
    kycHash,
    compliance: { signature, expiresAt, keyId },
  });
}

function create(rules: PayoutRules, input: PayoutInput) {
  return db.pool
    .transaction((tx) =>
      createPayout(tx, rules, { principal: "key:ops", now: Date.now() }, randomUUID(), input),
    )
    .then((row) => row.state, reasonOf);
}

const payoutsTo = (address: string) =>
  db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM operations WHERE counterparty_address = ${address}`);

describe("a compliance signature pays once", () => {
  it("refuses a second payout on one 5 USDT approval, under another idempotency key", async () => {
    const input = kycPayout("5");
    expect(await create(oneKey, input)).toBe("QUEUED");
    expect(await create(oneKey, input)).toBe("payout.kyc_signature_reused");
    expect(await create(oneKey, input)).toBe("payout.kyc_signature_reused");
    expect(await payoutsTo(input.recipientAddress)).toBe(1);
  });

  it("lets exactly one of several concurrent payouts use one approval", async () => {
    const input = kycPayout("7");
    const answers = await Promise.all([1, 2, 3, 4].map(() => create(oneKey, input)));
    expect(answers.filter((a) => a === "QUEUED")).toHaveLength(1);
    expect(answers.filter((a) => a === "payout.kyc_signature_reused")).toHaveLength(3);
    expect(await payoutsTo(input.recipientAddress)).toBe(1);
  });

  it("refuses a batch item that reuses an approval, and stores none of the batch", async () => {
    const used = kycPayout("3");
    expect(await create(oneKey, used)).toBe("QUEUED");
    const fresh = kycPayout("4");
    const err = await db.pool
      .transaction((tx) =>
        createBatch(tx, oneKey, { principal: "key:ops", now: Date.now() }, randomUUID(), [
          { reference: "a", input: fresh },
          { reference: "b", input: used },
        ]),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchInvalid);
    expect((err as BatchInvalid).items).toMatchObject([
      { index: 1, reason: "payout.kyc_signature_reused", field: "items[1].compliance_signature" },
    ]);
    expect(await payoutsTo(fresh.recipientAddress)).toBe(0);
    // The fresh approval was not spent by the refused batch.
    expect(await create(oneKey, fresh)).toBe("QUEUED");
  });
});

describe("compliance key ids", () => {
  it("checks a signature against the key its key_id names, so keys can be rotated", async () => {
    expect(await create(twoKeys, kycPayout("2", rotated, "2026b"))).toBe("QUEUED");
    expect(await create(twoKeys, kycPayout("2", officer, "2026a"))).toBe("QUEUED");
    expect(await create(twoKeys, kycPayout("2", rotated, "2026a"))).toBe(
      "payout.kyc_signature_invalid",
    );
    expect(await create(twoKeys, kycPayout("2", rotated, "retired"))).toBe(
      "payout.kyc_signature_invalid",
    );
  });

  it("needs a key_id when several keys are configured, and none when one is", async () => {
    const err = await db.pool
      .transaction((tx) =>
        createPayout(
          tx,
          twoKeys,
          { principal: "key:ops", now: Date.now() },
          randomUUID(),
          kycPayout("2", rotated, ""),
        ),
      )
      .catch((e: unknown) => e);
    expect(reasonOf(err)).toBe("payout.kyc_signature_invalid");
    expect((err as { metadata: Record<string, string> }).metadata.field).toBe(
      "compliance_signature.key_id",
    );
    expect(await create(oneKey, kycPayout("2", officer, ""))).toBe("QUEUED");
  });

  it("refuses bad compliance key configuration at start", () => {
    const bad = [
      () => parseComplianceKeys("", ["2026a"]),
      () => parseComplianceKeys("", ["=00"]),
      () => parseComplianceKeys("", [`a=${"00".repeat(33)}`]),
      () => parseComplianceKeys("", [`a=${pub(officer)}`, `a=${pub(rotated)}`]),
      () => parseComplianceKeys("zz", []),
    ];
    for (const parse of bad) expect(reasonOf(catching(parse))).toBe("config.invalid");
  });
});

function catching(f: () => unknown): unknown {
  try {
    f();
    return undefined;
  } catch (err) {
    return err;
  }
}
