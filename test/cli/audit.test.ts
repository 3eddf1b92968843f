import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../../src/core/kernel/audit.js";
import { chainAudit, newChainState } from "../../src/core/kernel/audit-chain.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

const run = promisify(execFile);
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  for (const action of ["api_key.create", "payout.create", "payout.approve"]) {
    await db.pool.transaction((tx) => appendAudit(tx, { actor: "cli", action, subject: "s:1" }));
  }
  // What core's chainer does after the appends commit.
  const state = newChainState();
  while (state.settled < 3n) await chainAudit(db.pool, state);
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

/** Runs `tronpay audit verify` against the test database; resolves with exit code and output. */
async function verify(): Promise<{ code: number; out: string }> {
  const env = { ...process.env, DATABASE_URL: db.url };
  try {
    const { stdout } = await run("node", ["bin/tronpay.js", "audit", "verify"], { env });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

describe("tronpay audit verify", () => {
  it("exits 0 on an intact chain", async () => {
    const { code, out } = await verify();
    expect(code).toBe(0);
    expect(out).toContain("3 entries verified");
  }, 60_000);

  it("exits non-zero and names the first altered entry", async () => {
    // The append-only trigger has to be switched off to tamper, as an attacker with DDL would.
    await db.pool.query(sql.unsafe`ALTER TABLE audit_log DISABLE TRIGGER USER`);
    await db.pool.query(sql.unsafe`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`);
    const { code, out } = await verify();
    expect(code).toBe(1);
    expect(out).toContain("BROKEN at seq 2");
  }, 60_000);
});
