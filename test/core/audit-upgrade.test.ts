import { createHash } from "node:crypto";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { bundledMigrations, migrate } from "../../src/core/db/migrate.js";
import { appendAudit } from "../../src/core/kernel/audit.js";
import { newChainState } from "../../src/core/kernel/audit-chain.js";
import { catchUpAudit } from "../../src/core/kernel/audit-job.js";
import { verifyAuditConsistent } from "../../src/core/kernel/audit-verify.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(false);
}, 60_000);
afterAll(async () => {
  await db?.drop();
});

/** An append as it was before migration 010 (its own copy: audit_head locked, format 1 hash). */
async function oldAppend(subject: string, details: Record<string, unknown>) {
  await db.pool.transaction(async (tx) => {
    const head = await tx.one(
      sql.type(z.object({ seq: z.bigint(), hash: z.string() }))`
        SELECT seq, hash FROM audit_head FOR UPDATE`,
    );
    const seq = head.seq + 1n;
    const time = Date.now();
    const hash = createHash("sha256")
      .update(
        JSON.stringify([
          seq.toString(),
          time,
          "old",
          "old.write",
          subject,
          sorted(details),
          head.hash,
        ]),
      )
      .digest("hex");
    await tx.query(sql.unsafe`
      INSERT INTO audit_log (seq, time, actor, action, subject, details, prev_hash, hash)
      VALUES (${seq}, 'epoch'::timestamptz + ${time} * interval '1 millisecond', 'old',
              'old.write', ${subject}, ${sql.jsonb(details as never)}, ${head.hash}, ${hash})`);
    await tx.query(sql.unsafe`UPDATE audit_head SET seq = ${seq}, hash = ${hash}`);
  });
}

/** Keys sorted at every level, as the old hash did. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sorted(o[k])]),
    );
  }
  return value;
}

describe("migration 010 on a database with an audit log", () => {
  it("keeps the old entries verifiable and chains new ones after them", async () => {
    await migrate(
      db.pool,
      bundledMigrations().filter((m) => m.version < 10),
    );
    for (let i = 1; i <= 3; i++) await oldAppend(`s:${i}`, { n: i, nested: { b: 1, a: 2 } });
    await migrate(db.pool);
    for (let i = 4; i <= 5; i++) {
      await db.pool.transaction((tx) =>
        appendAudit(tx, { actor: "new", action: "new.write", subject: `s:${i}` }),
      );
    }
    await catchUpAudit(db.pool, newChainState(), 10_000);
    const rows = await db.pool.any(
      sql.type(z.object({ seq: z.bigint(), format: z.number() }))`
        SELECT seq, format FROM audit_log ORDER BY seq`,
    );
    expect(rows).toEqual([1n, 2n, 3n, 4n, 5n].map((seq) => ({ seq, format: seq <= 3n ? 1 : 2 })));
    const r = await verifyAuditConsistent(db.pool);
    expect(r).toMatchObject({
      ok: true,
      checked: 5,
      lastSeq: 5n,
    });
  });
});
