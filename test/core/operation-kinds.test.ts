import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { planStake } from "../../src/core/chain/plans.js";
import {
  KINDS,
  type KindOp,
  type KindSpec,
  OPERATION_KINDS,
} from "../../src/core/operations/kinds.js";
import { IntentKind } from "../../src/gen/tronpay/signer/v1/signer_pb.js";
import { OperationKind } from "../../src/gen/tronpay/v1/common_pb.js";
import { WalletTransactionKind } from "../../src/gen/tronpay/v1/wallet_pb.js";
import { INTENT_CONTRACTS } from "../../src/signer/policy.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

// The operation-kind registry, the API's enums and the database must name the same kinds: a
// kind added to one of them and not the others fails here (the compiler catches the switches).

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** Names of a proto enum, without UNSPECIFIED. */
function enumNames(e: Record<string, string | number>): string[] {
  return Object.keys(e).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED");
}

const OWNER = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
const OTHER = "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf";

describe("operation-kind registry", () => {
  it("has exactly the proto's OperationKind values, each under its own name", () => {
    expect([...OPERATION_KINDS].sort()).toEqual(enumNames(OperationKind).sort());
    for (const k of OPERATION_KINDS) expect(KINDS[k].proto).toBe(OperationKind[k]);
  });

  it("has exactly the kinds the migrated operations.kind CHECK allows", async () => {
    const defs = await db.pool.manyFirst(sql.type(z.object({ def: z.string() }))`
      SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
      WHERE c.conrelid = 'operations'::regclass AND c.contype = 'c'
        AND pg_get_constraintdef(c.oid) LIKE '%kind%'`);
    expect(defs).toHaveLength(1);
    const allowed = [...(defs[0] ?? "").matchAll(/'([A-Z_]+)'::text/g)].map((m) => m[1]);
    expect(allowed.sort()).toEqual([...OPERATION_KINDS].sort());
    // And the CHECK really refuses a kind outside it.
    await expect(
      db.pool.query(sql.unsafe`
        INSERT INTO operations (id, kind, state, asset, amount, wallet_id, owner_address, created_by)
        VALUES ('op_x', 'NOT_A_KIND', 'QUEUED', 'TRX', 0, 'wal_x', ${OWNER}, 'test')`),
    ).rejects.toThrow(/check/i);
  });

  it("declares signer intents the signer knows, and builds the contract the signer expects", () => {
    const signerKinds = Object.keys(INTENT_CONTRACTS).sort();
    expect(enumNames(IntentKind).sort()).toEqual(signerKinds);
    for (const k of OPERATION_KINDS) {
      const plan = KINDS[k].plan;
      if (plan.via === "transfer") {
        for (const asset of ["TRX", "USDT"] as const)
          expect(signerKinds).toContain(plan.intent(asset));
        continue;
      }
      const op: KindOp = {
        id: "op_1",
        kind: k,
        asset: "TRX",
        amount: 5_000_000n,
        owner_address: OWNER,
        counterparty_address: OTHER,
        resource: "ENERGY",
        lock_period_blocks: 0n,
      };
      const built = planStake({ ...plan.request(op), owner: OWNER, lifetimeMs: 60_000 });
      expect(built.contract.type, k).toBe(INTENT_CONTRACTS[plan.intent]);
    }
  });

  it("gives every kind but the transfers its own wallet transaction kind", () => {
    const seen = new Set<WalletTransactionKind>();
    for (const k of OPERATION_KINDS) {
      const spec: KindSpec = KINDS[k];
      if (spec.pays) continue;
      const kind = spec.walletTransaction("TRX");
      expect(seen.has(kind), k).toBe(false);
      expect(kind).not.toBe(WalletTransactionKind.OTHER);
      seen.add(kind);
    }
    expect(KINDS.PAYOUT.walletTransaction("USDT")).toBe(WalletTransactionKind.USDT_TRANSFER);
  });
});
