import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createPayee, deletePayee, livePayee, updatePayee } from "../../src/core/payees/flows.js";
import { listPayeeRows } from "../../src/core/payees/repo.js";
import { createPayout } from "../../src/core/payouts/flows.js";
import { reasonOf } from "../../src/shared/errors.js";
import { newTestAccount } from "../devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { insertPayoutWallet, payoutInput, uniformRules } from "../helpers/payout-db.js";

let db: TestDatabase;
const wallet = { id: "wal_payees", address: newTestAccount().address };
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 10, 12);
const caller = (now = T0) => ({ principal: "key:alice", now, coolingOffMs: HOUR });
const rules = uniformRules(10n ** 12n, 10n ** 13n, 10n ** 12n);

beforeAll(async () => {
  db = await createTestDatabase();
  await insertPayoutWallet(db, wallet);
}, 30_000);

afterAll(async () => {
  await db?.drop();
});

const fail = (p: Promise<unknown>) => p.then(() => "no error", reasonOf);
const auditActions = async (subject: string) =>
  db.pool.anyFirst(sql.type(z.object({ action: z.string() }))`
    SELECT action FROM audit_log WHERE subject = ${subject} ORDER BY seq`);

function directPayout(tag: string, now: number) {
  return db.pool.transaction((tx) =>
    createPayout(
      tx,
      rules,
      { principal: "key:alice", now },
      `direct-${tag}-${now}`,
      payoutInput(wallet.id, { recipientAddress: "", payeeTag: tag, route: "DIRECT" }),
    ),
  );
}

describe("payees", () => {
  it("stores a payee whose address DIRECT may use only after the cooling-off, and audits it", async () => {
    const address = newTestAccount().address;
    const row = await db.pool.transaction((tx) =>
      createPayee(tx, caller(), {
        tag: "acme",
        displayName: " ACME Ltd ",
        address,
        kycStatus: "VERIFIED",
        allowlisted: true,
      }),
    );
    expect(row.display_name).toBe("ACME Ltd");
    expect(row.address_usable_at).toBe(T0 + HOUR);
    expect(row.created_by).toBe("key:alice");
    expect(await auditActions("payee:acme")).toEqual(["payee.created"]);
    expect(await fail(directPayout("acme", T0 + HOUR - 1))).toBe("payout.invalid_state");
    const payout = await directPayout("acme", T0 + HOUR);
    expect(payout.counterparty_address).toBe(address);
    expect(payout.payee_tag).toBe("acme");
  });

  it("restarts the cooling-off when the address changes, not when only the name does", async () => {
    await db.pool.transaction((tx) =>
      createPayee(tx, caller(), {
        tag: "bob",
        displayName: "Bob",
        address: newTestAccount().address,
        kycStatus: "NONE",
        allowlisted: true,
      }),
    );
    const renamed = await db.pool.transaction((tx) =>
      updatePayee(tx, caller(T0 + 2 * HOUR), "bob", { displayName: "Robert" }),
    );
    expect(renamed.address_usable_at).toBe(T0 + HOUR);
    const next = newTestAccount().address;
    const moved = await db.pool.transaction((tx) =>
      updatePayee(tx, caller(T0 + 2 * HOUR), "bob", { address: next, kycStatus: "EXPIRED" }),
    );
    expect(moved.address).toBe(next);
    expect(moved.kyc_status).toBe("EXPIRED");
    expect(moved.address_usable_at).toBe(T0 + 3 * HOUR);
    expect(await fail(directPayout("bob", T0 + 2 * HOUR + 1))).toBe("payout.invalid_state");
    expect(await auditActions("payee:bob")).toEqual([
      "payee.created",
      "payee.updated",
      "payee.updated",
    ]);
  });

  it("restarts the cooling-off when a payee becomes allowlisted", async () => {
    await db.pool.transaction((tx) =>
      createPayee(tx, caller(), {
        tag: "carol",
        displayName: "Carol",
        address: newTestAccount().address,
        kycStatus: "NONE",
        allowlisted: false,
      }),
    );
    expect(await fail(directPayout("carol", T0 + 2 * HOUR))).toBe("payout.invalid_state");
    const listed = await db.pool.transaction((tx) =>
      updatePayee(tx, caller(T0 + 5 * HOUR), "carol", { allowlisted: true }),
    );
    expect(listed.address_usable_at).toBe(T0 + 6 * HOUR);
  });

  it("soft-deletes: the payee disappears, its tag is never reused, and its payouts stay", async () => {
    await db.pool.transaction((tx) => deletePayee(tx, caller(T0 + 3 * HOUR), "acme"));
    expect(await fail(livePayee(db.pool, "acme"))).toBe("payee.not_found");
    const again = db.pool.transaction((tx) =>
      createPayee(tx, caller(), {
        tag: "acme",
        displayName: "ACME again",
        address: newTestAccount().address,
        kycStatus: "NONE",
        allowlisted: false,
      }),
    );
    expect(await fail(again)).toBe("payee.tag_taken");
    expect(await fail(directPayout("acme", T0 + 9 * HOUR))).toBe("request.not_found");
    const kept = await db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM payouts WHERE payee_tag = 'acme'`);
    expect(kept).toBe(1);
    expect((await auditActions("payee:acme")).at(-1)).toBe("payee.deleted");
  });

  it("refuses bad tags, our own wallets and unknown payees with stable reasons", async () => {
    const make = (tag: string, address: string) =>
      db.pool.transaction((tx) =>
        createPayee(tx, caller(), {
          tag,
          displayName: "x",
          address,
          kycStatus: "NONE",
          allowlisted: false,
        }),
      );
    expect(await fail(make("Upper", newTestAccount().address))).toBe("request.invalid");
    expect(await fail(make("ok-tag", wallet.address))).toBe("payout.recipient_is_own_wallet");
    expect(await fail(make("ok-tag", "T-not-an-address"))).toBe("address.invalid");
    const update = db.pool.transaction((tx) => updatePayee(tx, caller(), "nobody", {}));
    expect(await fail(update)).toBe("payee.not_found");
  });

  it("lists live payees by tag with prefix, allowlist and KYC filters", async () => {
    const all = await listPayeeRows(db.pool, {
      kycStatuses: [],
      prefix: "",
      address: "",
      afterTag: "",
      limit: 10,
    });
    expect(all.map((p) => p.tag)).toEqual(["bob", "carol"]);
    const byName = await listPayeeRows(db.pool, {
      kycStatuses: [],
      prefix: "ROB",
      address: "",
      afterTag: "",
      limit: 10,
    });
    expect(byName.map((p) => p.tag)).toEqual(["bob"]);
    const expired = await listPayeeRows(db.pool, {
      kycStatuses: ["EXPIRED"],
      allowlisted: true,
      prefix: "",
      address: "",
      afterTag: "",
      limit: 10,
    });
    expect(expired.map((p) => p.tag)).toEqual(["bob"]);
    const page2 = await listPayeeRows(db.pool, {
      kycStatuses: [],
      prefix: "",
      address: "",
      afterTag: "bob",
      limit: 10,
    });
    expect(page2.map((p) => p.tag)).toEqual(["carol"]);
    const literal = await listPayeeRows(db.pool, {
      kycStatuses: [],
      prefix: "%",
      address: "",
      afterTag: "",
      limit: 10,
    });
    expect(literal).toEqual([]);
  });
});
