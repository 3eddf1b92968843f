import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Chain } from "../../src/core/chain/types.js";
import { watchNodeGate } from "../../src/core/engine/node-gate.js";
import { claimDue } from "../../src/core/engine/repo.js";
import { createPayout } from "../../src/core/payouts/flows.js";
import { createLogger } from "../../src/shared/log.js";
import { newTestAccount, startTestDevnet } from "../devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { insertPayoutWallet, payoutInput, USDT, uniformRules } from "../helpers/payout-db.js";
import { chainOn } from "./chain-helpers.js";

let db: TestDatabase;
const wallet = { id: "wal_gate", address: newTestAccount().address };
const rules = uniformRules(1_000n * USDT, 10_000n * USDT, 500n * USDT);

beforeAll(async () => {
  db = await createTestDatabase();
  await insertPayoutWallet(db, wallet);
}, 30_000);

afterAll(async () => {
  await db?.drop();
});

let seq = 0;
function newPayout() {
  return db.pool.transaction((tx) =>
    createPayout(
      tx,
      rules,
      { principal: "key:gate", now: Date.now() },
      `g-${++seq}`,
      payoutInput(wallet.id),
    ),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("claiming work while no TRON node is available", () => {
  it("claims only operations already signed, and the queued ones once signing may go on", async () => {
    const queued = await newPayout();
    const broadcast = await newPayout();
    const txId = "ab".repeat(32);
    await db.pool.query(sql.unsafe`
      INSERT INTO attempts (operation_id, attempt_no, tx_id, raw_data, signature, expiration, state)
      VALUES (${broadcast.id}, 1, ${txId}, '\\x00', ${sql.binary(Buffer.alloc(65))}, now() + interval '1 minute', 'BROADCAST')`);
    await db.pool.query(
      sql.unsafe`UPDATE operations SET state = 'BROADCAST' WHERE id = ${broadcast.id}`,
    );
    const paused = await claimDue(db.pool, 10, 60_000, false);
    expect(paused.map((o) => o.id)).toEqual([broadcast.id]);
    const resumed = await claimDue(db.pool, 10, 60_000, true);
    expect(resumed.map((o) => o.id)).toEqual([queued.id]);
    expect(resumed[0]?.state).toBe("QUEUED");
  });
});

describe("node availability", () => {
  it("is lost only when every node's breaker opens, and comes back when a half-open probe succeeds", async () => {
    const net = await startTestDevnet();
    try {
      const sick = await startTestDevnet();
      sick.devnet.admin.setFaults({ errorRate: 1 });
      const chain = chainOn(net, [sick.devnet.url, net.devnet.url], 1_000);
      const changes: boolean[] = [];
      chain.onAvailabilityChange((available) => changes.push(available));
      // The first node fails; reads fail over to the second, which answers: still available.
      for (let i = 0; i < 8; i++) await chain.head();
      expect(chain.anyNodeAvailable()).toBe(true);
      expect(changes).toEqual([]);
      await sick.stop();
      net.devnet.admin.setFaults({ errorRate: 1 });
      for (let i = 0; i < 8; i++) await chain.head().catch(() => {});
      expect(chain.anyNodeAvailable()).toBe(false);
      // While open, calls are refused unsent: nothing changes, however many there are.
      for (let i = 0; i < 5; i++) await chain.head().catch(() => {});
      expect(changes).toEqual([false]);
      net.devnet.admin.setFaults({ errorRate: 0 });
      // The breaker lets one call through 10 s after it opened; it succeeds and closes it.
      await sleep(10_500);
      await chain.head();
      expect(chain.anyNodeAvailable()).toBe(true);
      expect(changes).toEqual([false, true]);
    } finally {
      await net.stop();
    }
  }, 60_000);
});

describe("the node gate", () => {
  it("logs and audits the pause and the resume once each, and probes the node while paused", async () => {
    let notify: ((available: boolean) => void) | undefined;
    let heads = 0;
    const chain = {
      onAvailabilityChange(listener: (available: boolean) => void) {
        notify = listener;
        return () => {
          notify = undefined;
        };
      },
      status: () => ({ nodeUrl: "http://node.test:8090", reachable: false }),
      head: async () => {
        heads++;
        throw new Error("circuit open");
      },
    } as unknown as Chain;
    const lines: { msg: string }[] = [];
    const log = createLogger({
      name: "test",
      level: "info",
      destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    });
    const gate = watchNodeGate({ pool: db.pool, chain, log, probeMs: 20 });
    try {
      notify?.(false);
      await sleep(200);
      expect(heads).toBeGreaterThan(2);
      notify?.(true);
      await sleep(100);
      const probed = heads;
      await sleep(200);
      expect(heads).toBe(probed);
      const audited = await db.pool.any(
        sql.type(
          z.object({ action: z.string(), actor: z.string(), subject: z.string() }),
        )`SELECT action, actor, subject FROM audit_log WHERE action LIKE 'signing.%' ORDER BY seq`,
      );
      expect(audited).toEqual([
        { action: "signing.paused", actor: "system:engine", subject: "node" },
        { action: "signing.resumed", actor: "system:engine", subject: "node" },
      ]);
      expect(lines.map((l) => l.msg)).toEqual([
        "signing paused: every TRON node's circuit breaker is open",
        "signing resumed: a TRON node answers again",
      ]);
    } finally {
      gate.stop();
    }
    expect(notify).toBeUndefined();
  });
});
