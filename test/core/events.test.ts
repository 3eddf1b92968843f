import { randomBytes } from "node:crypto";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { pausePayouts, resumePayouts } from "../../src/core/admin/pause.js";
import type { EngineDeps, EngineSettings } from "../../src/core/engine/deps.js";
import { claimDue, type OperationRow, transition } from "../../src/core/engine/repo.js";
import { signAndSend } from "../../src/core/engine/sign.js";
import { startEngine } from "../../src/core/engine/worker.js";
import { EVENT_TYPES, type EventType, eventSpec } from "../../src/core/events/catalog.js";
import { insertOperation } from "../../src/core/operations/repo.js";
import {
  approvePayout,
  cancelPayout,
  createBatch,
  createPayout,
} from "../../src/core/payouts/flows.js";
import { attemptDelivery } from "../../src/core/webhooks/deliver.js";
import { claimDueDeliveries } from "../../src/core/webhooks/delivery-repo.js";
import { dispatchOutbox } from "../../src/core/webhooks/dispatch.js";
import { createEndpoint } from "../../src/core/webhooks/flows.js";
import { createSecretBox } from "../../src/core/webhooks/secret-box.js";
import { newTestAccount, startTestDevnet, type TestNet } from "../devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { insertPayoutWallet, payoutInput, USDT, uniformRules } from "../helpers/payout-db.js";
import { chainOn, closedPortUrl, silentLog } from "./chain-helpers.js";

/**
 * Every subscribable event type is emitted by a real flow (real Postgres, real migrations, the
 * devnet as the chain) and delivered to an endpoint subscribed to it; every payload written
 * matches the catalog's schema, which docs/events.md is generated from. A type added to the
 * catalog with a webhook enum value but no emitter these flows reach fails here.
 */

let db: TestDatabase;
let net: TestNet;
const box = createSecretBox(randomBytes(32).toString("base64"));
const wallet = { id: "wal_events", address: newTestAccount().address };
const rules = uniformRules(1_000n * USDT, 100_000n * USDT, 500n * USDT);
const settings: EngineSettings = {
  lifetimeMs: 60_000,
  replacementMarginMs: 1_000,
  expiryMarginMs: 1_000,
  rebroadcastMs: 60_000,
  followMs: 60_000,
  holdRecheckMs: 60_000,
  maxAttempts: 5,
  feeLimitSun: 30_000_000n,
  leaseMs: 30_000,
};
const subscribable = EVENT_TYPES.filter((t) => eventSpec(t).webhook !== null);

beforeAll(async () => {
  db = await createTestDatabase();
  net = await startTestDevnet();
  await insertPayoutWallet(db, wallet);
}, 60_000);

afterAll(async () => {
  await db?.drop();
  await net?.stop();
});

const caller = (principal: string) => ({ principal, now: Date.now() });
let seq = 0;
const payout = (amount = "1") =>
  db.pool.transaction((tx) =>
    createPayout(tx, rules, caller("key:maker"), `ev-${++seq}`, payoutInput(wallet.id, { amount })),
  );

const Outbox = z.object({ type: z.string(), subject_id: z.string(), payload: z.unknown() });
const outbox = () =>
  db.pool.any(sql.type(Outbox)`SELECT type, subject_id, payload FROM outbox ORDER BY seq`);
const typesOf = async (subject: string) =>
  (await outbox()).filter((e) => e.subject_id === subject).map((e) => e.type);

/** The operation row the engine would step, claimed for this test. */
async function claimed(id: string): Promise<OperationRow> {
  const op = (await claimDue(db.pool, 100, 60_000)).find((o) => o.id === id);
  if (!op) throw new Error(`${id} was not due`);
  return op;
}

/** Dispatches until the cursor has passed every outbox row (other tests' transactions may lag it). */
async function drain(): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    await dispatchOutbox(db.pool);
    const behind = await db.pool.oneFirst(sql.unsafe`
      SELECT EXISTS (SELECT 1 FROM outbox o, webhook_dispatch_cursor c
                     WHERE (o.txid, o.seq) > (c.last_txid, c.last_seq)) AS behind`);
    if (!behind) return;
    if (Date.now() > deadline) throw new Error("the dispatcher did not catch up");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("events (real flows, real Postgres, devnet chain)", () => {
  it("emits every subscribable type in its flow, with the catalog's payload, and delivers it", async () => {
    const endpoint = await db.pool.transaction((tx) =>
      createEndpoint(
        tx,
        { box },
        { url: "https://example.com/hook", eventTypes: subscribable, description: "", by: "t" },
      ),
    );

    // Four eyes: created straight into AWAITING_APPROVAL, then approved by another principal.
    const big = await payout("600");
    expect(big.state).toBe("AWAITING_APPROVAL");
    expect(await typesOf(big.id)).toEqual(["payout.created", "payout.awaiting_approval"]);
    await db.pool.transaction((tx) => approvePayout(tx, caller("key:checker"), big.id, "ok"));
    expect(await typesOf(big.id)).toContain("payout.approved");
    // Below the threshold: created QUEUED, no payout.awaiting_approval.
    const small = await payout();
    expect(await typesOf(small.id)).toEqual(["payout.created"]);
    await db.pool.transaction((tx) => cancelPayout(tx, caller("key:maker"), small.id, "typo"));

    // The engine's funds check against the devnet: the wallet has nothing, so the payout is HELD.
    const held = await payout();
    const deps: EngineDeps = {
      pool: db.pool,
      chain: chainOn(net, [net.devnet.url]),
      signer: {} as EngineDeps["signer"], // never reached: a HELD payout is not signed
      log: silentLog,
      clock: Date.now,
      isPaused: async () => false,
      settings,
    };
    await signAndSend(deps, await claimed(held.id));
    expect(await typesOf(held.id)).toEqual(["payout.created", "payout.held"]);
    expect(await typesOf(wallet.id)).toEqual(["wallet.low_balance"]);

    // A batch whose payouts end CONFIRMED and FAILED, through the engine's transitions.
    const { batchId, payoutIds } = await db.pool.transaction((tx) =>
      createBatch(tx, rules, caller("key:maker"), "ev-batch", [
        { reference: "a", input: payoutInput(wallet.id) },
        { reference: "b", input: payoutInput(wallet.id) },
      ]),
    );
    const cost = { feeSun: 1_100_000n, energyUsed: 0n, bandwidthUsed: 0n };
    const ending = (end: "CONFIRMED" | "FAILED") =>
      end === "CONFIRMED" ? { confirmed: true, cost } : { cost, failureReason: "chain.revert" };
    for (const [i, id] of payoutIds.entries()) {
      const op = { id, kind: "PAYOUT" as const };
      await db.pool.transaction(async (tx) => {
        await transition(tx, op, "QUEUED", "SIGNED", {}, "t", { txId: `tx${i}` });
        await transition(tx, op, "SIGNED", "BROADCAST", {}, "t", { txId: `tx${i}` });
        const end = i === 0 ? "CONFIRMED" : "FAILED";
        await transition(tx, op, "BROADCAST", end, ending(end), "t", {
          txId: `tx${i}`,
          blockNumber: "7",
          feeSun: "1100000",
        });
      });
    }
    expect(await typesOf(batchId)).toEqual(["batch.created", "batch.completed"]);

    // Non-payout operations: operation.* events.
    for (const end of ["CONFIRMED", "FAILED"] as const) {
      const op = await db.pool.transaction((tx) =>
        insertOperation(tx, {
          kind: "STAKE",
          asset: "TRX",
          amount: 2_500_000n,
          walletId: wallet.id,
          ownerAddress: wallet.address,
          counterpartyAddress: "",
          resource: "ENERGY",
          lockPeriodBlocks: 0n,
          principal: "key:maker",
        }),
      );
      await db.pool.transaction(async (tx) => {
        await transition(tx, op, "QUEUED", "SIGNED", {}, "t", { txId: `op-${end}` });
        await transition(tx, op, "SIGNED", "BROADCAST", {}, "t", { txId: `op-${end}` });
        await transition(tx, op, "BROADCAST", end, ending(end), "t", { txId: `op-${end}` });
      });
    }

    // No node answers: the engine loop reports node.unreachable.
    const stranded = await payout();
    const engine = startEngine(
      { ...deps, chain: chainOn(net, [await closedPortUrl()], 500) },
      { concurrency: 4, pollMs: 50, autostart: false },
    );
    try {
      await engine.tick();
      const deadline = Date.now() + 20_000;
      while (!(await typesOf("node")).includes("node.unreachable")) {
        if (Date.now() > deadline) throw new Error("no node.unreachable");
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await engine.stop();
    }
    expect(await typesOf(stranded.id)).toEqual(["payout.created"]);

    // The pause switch, in the transaction that flips it.
    await db.pool.transaction((tx) =>
      pausePayouts(tx, { by: "key:admin", reason: "incident", now: Date.now() }),
    );
    await db.pool.transaction((tx) => resumePayouts(tx, { by: "key:admin2", now: Date.now() }));

    const events = await outbox();
    const emitted = new Set(events.map((e) => e.type));
    expect(subscribable.filter((t) => !emitted.has(t))).toEqual([]);
    for (const e of events) {
      expect(EVENT_TYPES, e.type).toContain(e.type);
      const spec = eventSpec(e.type as EventType);
      expect(spec.payload.safeParse(e.payload).error?.issues, e.type).toBeUndefined();
      expect(spec.subject(e.payload), e.type).toBe(e.subject_id);
    }
    const payload = (type: EventType) => events.find((e) => e.type === type)?.payload;
    // Amounts as the API writes them: decimal strings in whole units.
    expect(payload("payout.created")).toMatchObject({ id: big.id, amount: "600", asset: "USDT" });
    expect(payload("payout.confirmed")).toMatchObject({ trxBurned: "1.1", blockNumber: "7" });
    expect(payload("operation.confirmed")).toMatchObject({ kind: "STAKE", trxBurned: "1.1" });
    expect(events.find((e) => e.type === "operation.created")?.payload).toMatchObject({
      amount: "2.5",
    });
    expect(payload("payout.awaiting_approval")).toEqual({
      id: big.id,
      kind: "PAYOUT",
      from: null,
      to: "AWAITING_APPROVAL",
    });
    expect(payload("payouts.paused")).toEqual({ pausedBy: "key:admin", reason: "incident" });
    expect(payload("payouts.resumed")).toEqual({
      resumedBy: "key:admin2",
      pausedBy: "key:admin",
      reason: "incident",
    });

    // Delivered: every subscribable type reaches the endpoint, with the payload as data.
    await drain();
    const bodies: { type: string; data: unknown }[] = [];
    const worker = {
      pool: db.pool,
      log: silentLog,
      box,
      send: async (_url: string, _headers: Record<string, string>, body: string) => {
        bodies.push(JSON.parse(body));
        return { status: 200 };
      },
      settings: {
        backoffMs: 1_000,
        backoffMaxMs: 10_000,
        retryWindowMs: 60_000,
        leaseMs: 30_000,
        pollMs: 50,
        concurrency: 4,
      },
    };
    // Claims take one delivery per subject at a time, in outbox order: claim until none is due.
    for (let claims = await claimDueDeliveries(db.pool, 1_000, 30_000); claims.length > 0; ) {
      for (const d of claims) {
        expect(d.endpoint_id).toBe(endpoint.endpoint.id);
        await attemptDelivery(worker, d);
      }
      claims = await claimDueDeliveries(db.pool, 1_000, 30_000);
    }
    expect([...new Set(bodies.map((b) => b.type))].sort()).toEqual([...subscribable].sort());
    expect(bodies.find((b) => b.type === "payouts.paused")?.data).toEqual(
      payload("payouts.paused"),
    );
    expect(bodies.find((b) => b.type === "payout.awaiting_approval")?.data).toEqual(
      payload("payout.awaiting_approval"),
    );
    // Internal types stay in the outbox.
    expect(bodies.map((b) => b.type)).not.toContain("payout.queued");
  }, 90_000);
});
