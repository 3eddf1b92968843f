import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { openDatabase } from "../../src/core/db/pool.js";
import { appendAudit } from "../../src/core/kernel/audit.js";
import { chainAudit, newChainState } from "../../src/core/kernel/audit-chain.js";
import { catchUpAudit } from "../../src/core/kernel/audit-job.js";
import { verifyAuditConsistent } from "../../src/core/kernel/audit-verify.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  await db?.drop();
});

const entry = (subject: string) => ({ actor: "test", action: "test.append", subject });
const Linked = z.object({
  seq: z.bigint(),
  prev_hash: z.string().nullable(),
  hash: z.string().nullable(),
});
const linkedRows = () =>
  db.pool.any(sql.type(Linked)`SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq`);

/** Resolves once `open` is running inside a transaction that has appended, and holds it there. */
function holdOpen(subject: string) {
  let release = () => {};
  let rollback = false;
  const held = new Promise<void>((r) => {
    release = r;
  });
  let appended = () => {};
  const ready = new Promise<void>((r) => {
    appended = r;
  });
  const done = db.pool
    .transaction(async (tx) => {
      await appendAudit(tx, entry(subject));
      appended();
      await held;
      if (rollback) throw new Error("rolled back on purpose");
    })
    .catch((err: Error) => {
      if (!rollback) throw err;
    });
  return {
    ready,
    commit: () => {
      release();
      return done;
    },
    rollback: () => {
      rollback = true;
      release();
      return done;
    },
  };
}

describe("audit appends", () => {
  it("do not wait for another transaction's append", async () => {
    const open = holdOpen("first");
    await open.ready;
    const started = Date.now();
    // With audit_head locked by every append this waits for `open` and times out.
    await db.pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`SET LOCAL lock_timeout = '2s'`);
      await appendAudit(tx, entry("second"));
    });
    expect(Date.now() - started).toBeLessThan(2000);
    await open.commit();
  });
});

describe("the chainer", () => {
  it("does not link past an entry whose transaction is open, and links both in seq order after it commits", async () => {
    const state = newChainState();
    await catchUpAudit(db.pool, state, 10_000);
    const before = (await linkedRows()).length;
    const open = holdOpen("slow");
    await open.ready;
    await db.pool.transaction((tx) => appendAudit(tx, entry("fast")));
    for (let i = 0; i < 5; i++) {
      await chainAudit(db.pool, state);
      await new Promise((r) => setTimeout(r, 30));
    }
    const waiting = await linkedRows();
    expect(waiting.slice(before).every((r) => r.hash === null)).toBe(true);
    const pending = await verifyAuditConsistent(db.pool);
    expect(pending.unchained).toBe(waiting.length - before);
    await open.commit();
    await catchUpAudit(db.pool, state, 10_000);
    const rows = await linkedRows();
    expect(rows.every((r) => r.hash !== null)).toBe(true);
    for (let i = 1; i < rows.length; i++) expect(rows[i]?.prev_hash).toBe(rows[i - 1]?.hash);
    expect(await verifyAuditConsistent(db.pool)).toMatchObject({ ok: true, unchained: 0 });
  });

  it("skips the number of a rolled-back append", async () => {
    const state = newChainState();
    const open = holdOpen("doomed");
    await open.ready;
    await db.pool.transaction((tx) => appendAudit(tx, entry("kept")));
    await open.rollback();
    await catchUpAudit(db.pool, state, 10_000);
    const rows = await linkedRows();
    const seqs = rows.map((r) => r.seq);
    // A gap where the rolled-back entry's number was, and the chain links across it.
    expect(seqs.some((s, i) => i > 0 && s !== (seqs[i - 1] as bigint) + 1n)).toBe(true);
    expect(await verifyAuditConsistent(db.pool)).toMatchObject({ ok: true, unchained: 0 });
  });

  it("links every committed entry exactly once with two replicas chaining during concurrent appends", async () => {
    const replica = await openDatabase(db.url, 4);
    try {
      const before = (await linkedRows()).length;
      const states = [newChainState(), newChainState()];
      let appending = true;
      const chainers = [db.pool, replica].map(async (pool, i) => {
        while (appending) {
          await chainAudit(pool, states[i] as ReturnType<typeof newChainState>);
          await new Promise((r) => setTimeout(r, 5));
        }
      });
      await Promise.all(
        Array.from({ length: 8 }, (_, w) =>
          (async () => {
            for (let i = 0; i < 25; i++) {
              await db.pool
                .transaction(async (tx) => {
                  await appendAudit(tx, entry(`w${w}:${i}`));
                  // Every fifth one rolls back, leaving a gap.
                  if (i % 5 === 4) throw new Error("rollback");
                })
                .catch(() => {});
            }
          })(),
        ),
      );
      appending = false;
      await Promise.all(chainers);
      await catchUpAudit(replica, newChainState(), 10_000);
      const rows = await linkedRows();
      expect(rows.length - before).toBe(8 * 20);
      expect(new Set(rows.map((r) => r.hash)).size).toBe(rows.length);
      expect(await verifyAuditConsistent(db.pool, { pageSize: 7 })).toMatchObject({
        ok: true,
        checked: rows.length,
        unchained: 0,
      });
    } finally {
      await replica.end();
    }
  }, 60_000);
});
