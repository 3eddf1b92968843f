import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { AdminService } from "../../src/gen/tronpay/v1/admin_pb.js";
import { Role } from "../../src/gen/tronpay/v1/options_pb.js";
import { reasonOf } from "../../src/shared/errors.js";
import { childCoverageEnv } from "../helpers/coverage.js";
import { type Stack, startStack } from "../helpers/stack.js";

const run = promisify(execFile);

// Core chains and checkpoints the audit log on its own, with the real signer signing; a
// rewrite done straight in the database is then caught by VerifyAuditLog and the CLI.

let stack: Stack;
let publicKey: string;
let journal: string;

beforeAll(async () => {
  stack = await startStack({
    coreEnv: { TRONPAY_AUDIT_CHECKPOINT_INTERVAL_SEC: "1", TRONPAY_AUDIT_CHAIN_INTERVAL_MS: "50" },
  });
  const key = await stack.signer.waitForLog("audit checkpoint key");
  publicKey = String(key.auditPublicKey);
  journal = String(key.checkpointJournal);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const admin = () => stack.client(AdminService);

/** Polls until `check` holds. */
async function until(what: string, check: () => Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function cli(): Promise<{ code: number; out: string }> {
  const args = ["bin/tronpay.js", "audit", "verify", "--public-key", publicKey];
  try {
    const { stdout } = await run("node", [...args, "--checkpoint-journal", journal], {
      env: { ...process.env, ...childCoverageEnv(), DATABASE_URL: stack.db.url },
    });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

describe("the audit log, chained and checkpointed by a running core", () => {
  it("proves what the signer checkpointed and says what is not proven yet", async () => {
    for (let i = 0; i < 3; i++) {
      await admin().createApiKey({
        idempotencyKey: `audit-e2e-${i}`,
        name: `k${i}`,
        roles: [Role.AUDITOR],
      });
    }
    await until("a checkpoint covering every entry", async () => {
      const r = await admin().verifyAuditLog({});
      return r.ok && r.lastSeq >= 3n && r.provenSeq === r.lastSeq;
    });
    const r = await admin().verifyAuditLog({});
    expect(r.auditPublicKey).toBe(publicKey);
    expect(r.unchainedEntries).toBe(0n);
    const { code, out } = await cli();
    expect(code).toBe(0);
    expect(out).toContain(`proven through seq ${r.provenSeq}`);
    const inverted = await admin()
      .verifyAuditLog({ fromSeq: 3n, toSeq: 2n })
      .catch((e: unknown) => e);
    expect(reasonOf(inverted)).toBe("request.invalid");
  }, 60_000);

  it("catches a cut tail with audit_head moved back and the checkpoints deleted", async () => {
    const before = await admin().verifyAuditLog({});
    const keep = before.lastSeq - 2n;
    await stack.db.pool.connect(async (c) => {
      await c.query(sql.unsafe`SET session_replication_role = replica`);
      await c.query(sql.unsafe`DELETE FROM audit_log WHERE seq > ${keep}`);
      await c.query(sql.unsafe`
        UPDATE audit_head SET seq = ${keep}, hash = (SELECT hash FROM audit_log WHERE seq = ${keep})`);
      await c.query(sql.unsafe`DELETE FROM audit_checkpoints`);
    });
    const after = await admin().verifyAuditLog({});
    expect(after).toMatchObject({
      ok: false,
      firstBadSeq: keep + 1n,
      problem: "checkpoint_beyond_chain",
    });
    const { code, out } = await cli();
    expect(code).toBe(1);
    expect(out).toContain(`BROKEN at seq ${keep + 1n}: checkpoint_beyond_chain`);
    // Core keeps asking; the signer keeps refusing the shorter head, and core says so.
    const n = await stack.db.pool.oneFirst(
      sql.type(z.object({ n: z.bigint() }))`SELECT count(*) AS n FROM audit_checkpoints`,
    );
    expect(n).toBe(0n);
    const refused = await stack.core.waitForLog("audit checkpoint pass failed");
    expect(refused.reason).toBe("signer.audit_checkpoint_conflict");
  }, 60_000);
});
