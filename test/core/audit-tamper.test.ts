import { join } from "node:path";
import { type Client, ConnectError } from "@connectrpc/connect";
import { sql } from "slonik";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  appendAudit,
  entryHash,
  GENESIS_HASH,
  HASHED_COLUMNS,
  HashedRow,
} from "../../src/core/kernel/audit.js";
import { checkpointAudit, newChainState } from "../../src/core/kernel/audit-chain.js";
import { catchUpAudit, signerAnchor } from "../../src/core/kernel/audit-job.js";
import { verifyAuditConsistent } from "../../src/core/kernel/audit-verify.js";
import { SignerService } from "../../src/gen/tronpay/signer/v1/signer_pb.js";
import { unixSocketClient } from "../../src/shared/connect.js";
import { reasonOf } from "../../src/shared/errors.js";
import { CheckpointJournal } from "../../src/signer/audit-checkpoints.js";
import { type SignerServer, serveSigner } from "../../src/signer/server.js";
import { testSigner } from "../../src/signer/testing.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

// Someone who can write the database (and switch its triggers off) tampers with the audit log;
// verification holds the chain to the checkpoints the signer signed and journaled.

let db: TestDatabase;
let server: SignerServer;
let journal: CheckpointJournal;
let signer: Client<typeof SignerService>;

async function append(n: number, from: number) {
  for (let i = from; i < from + n; i++) {
    await db.pool.transaction((tx) =>
      appendAudit(tx, {
        actor: "key:ops",
        action: "payout.create",
        subject: `payout:${i}`,
        // An amount as a JSON number, as a caller might put one in details.
        details: { sun: 1234567890123456800 },
      }),
    );
  }
  await catchUpAudit(db.pool, newChainState(), 10_000);
}

beforeEach(async () => {
  db = await createTestDatabase();
  const { deps, dir } = await testSigner({ value: Date.now() });
  journal = CheckpointJournal.open(join(dir, "audit-checkpoints.log"), deps.keystore.auditSecret());
  server = await serveSigner(
    { ...deps, backupRecipients: [], checkpoints: journal },
    join(dir, "sock", "signer.sock"),
  );
  signer = unixSocketClient(SignerService, server.socketPath);
  await append(5, 1);
  expect(await checkpointAudit(db.pool, signer)).toBe(5n);
  await append(2, 6);
}, 60_000);

afterEach(async () => {
  await server?.close();
  journal?.close();
  await db?.drop();
});

async function verify() {
  return verifyAuditConsistent(db.pool, { anchor: await signerAnchor(signer) });
}

/** Runs `work` on one connection with every trigger off, as a superuser attacker would. */
async function asAttacker(
  work: (c: Parameters<Parameters<TestDatabase["pool"]["connect"]>[0]>[0]) => Promise<void>,
) {
  await db.pool.connect(async (c) => {
    await c.query(sql.unsafe`SET session_replication_role = replica`);
    await work(c);
  });
}

describe("the signer's checkpoint RPCs", () => {
  it("answer request.invalid for a bad seq, hash or page size, and sign nothing", async () => {
    const bad = [
      signer.signAuditCheckpoint({ seq: 0n, hash: "0".repeat(64) }),
      signer.signAuditCheckpoint({ seq: 9n, hash: "ABC" }),
      signer.listAuditCheckpoints({ pageSize: 1001 }),
    ];
    for (const call of bad)
      expect(reasonOf(await call.catch((e: unknown) => e))).toBe("request.invalid");
    const { checkpoints } = await signer.listAuditCheckpoints({});
    expect(checkpoints.map((c) => c.seq)).toEqual([5n]);
  });
});

describe("audit log tampering", () => {
  it("verifies an untouched chain, proven through the checkpoint and unproven after it", async () => {
    const r = await verify();
    expect(r).toMatchObject({ ok: true, checked: 7, lastSeq: 7n, provenSeq: 5n, unchained: 0 });
  });

  it("signs a head that extends the last checkpoint, which then proves the whole chain", async () => {
    expect(await checkpointAudit(db.pool, signer)).toBe(7n);
    expect(await verify()).toMatchObject({ ok: true, lastSeq: 7n, provenSeq: 7n });
  });

  it("detects an edited entry whose chain and audit_head were recomputed, and has the rewritten head signed by no one", async () => {
    await asAttacker(async (c) => {
      await c.query(sql.unsafe`UPDATE audit_log SET actor = 'key:mallory' WHERE seq = 2`);
      const rows = await c.any(
        sql.type(HashedRow)`SELECT ${HASHED_COLUMNS} FROM audit_log ORDER BY seq`,
      );
      let prev = GENESIS_HASH;
      for (const r of rows) {
        const hash = entryHash({ ...r, timeUs: r.time_us, detailsText: r.details_text }, prev);
        await c.query(
          sql.unsafe`UPDATE audit_log SET prev_hash = ${prev}, hash = ${hash} WHERE seq = ${r.seq}`,
        );
        prev = hash;
      }
      await c.query(sql.unsafe`UPDATE audit_head SET hash = ${prev}`);
      await c.query(sql.unsafe`DELETE FROM audit_checkpoints`);
    });
    // Core checks the stretch after the signer's last checkpoint and asks for no new one.
    await expect(checkpointAudit(db.pool, signer)).rejects.toThrow(/does not extend/);
    const r = await verify();
    expect(r).toMatchObject({ ok: false, firstBadSeq: 5n, problem: "checkpoint_mismatch" });
    expect(r.provenSeq).toBe(0n);
  });

  it("detects a deleted tail with audit_head moved back, and the signer refuses to sign the shorter head", async () => {
    await asAttacker(async (c) => {
      await c.query(sql.unsafe`DELETE FROM audit_log WHERE seq > 3`);
      await c.query(
        sql.unsafe`UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_log WHERE seq = 3)`,
      );
      await c.query(sql.unsafe`DELETE FROM audit_checkpoints`);
    });
    const r = await verify();
    expect(r).toMatchObject({ ok: false, firstBadSeq: 4n, problem: "checkpoint_beyond_chain" });
    const refused = await checkpointAudit(db.pool, signer).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConnectError);
    expect(reasonOf(refused)).toBe("signer.audit_checkpoint_conflict");
  });

  it("refuses TRUNCATE of the audit tables", async () => {
    for (const table of ["audit_log", "audit_head", "audit_checkpoints"]) {
      await expect(db.pool.query(sql.unsafe`TRUNCATE ${sql.identifier([table])}`)).rejects.toThrow(
        /may not be truncated/,
      );
    }
    expect((await verify()).ok).toBe(true);
  });

  it("detects a truncate that got past the guard, with audit_head reset", async () => {
    await asAttacker(async (c) => {
      await c.query(sql.unsafe`TRUNCATE audit_log, audit_checkpoints`);
      await c.query(sql.unsafe`UPDATE audit_head SET seq = 0, hash = ${GENESIS_HASH}`);
    });
    const r = await verify();
    expect(r).toMatchObject({ ok: false, firstBadSeq: 1n, problem: "checkpoint_beyond_chain" });
  });

  it("detects a plain edit to a number that parses to the same JavaScript double", async () => {
    await asAttacker(async (c) => {
      await c.query(
        sql.unsafe`UPDATE audit_log SET details = '{"sun": 1234567890123456801}' WHERE seq = 2`,
      );
    });
    const r = await verify();
    expect(r).toMatchObject({ ok: false, firstBadSeq: 2n, problem: "hash_mismatch" });
    // The database alone (no anchor) sees it too: it is a hash over the stored text.
    expect((await verifyAuditConsistent(db.pool)).ok).toBe(false);
  });
});
