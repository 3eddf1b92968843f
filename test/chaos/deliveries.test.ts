import { randomBytes } from "node:crypto";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { census, type Undelivered } from "../../chaos/deliveries.js";
import { reportWebhooks, type Settled } from "../../chaos/webhooks.js";
import { emitEvent } from "../../src/core/kernel/outbox.js";
import { claimDueDeliveries, recordAttempt } from "../../src/core/webhooks/delivery-repo.js";
import { dispatchOutbox } from "../../src/core/webhooks/dispatch.js";
import { createEndpoint } from "../../src/core/webhooks/flows.js";
import { updateEndpoint } from "../../src/core/webhooks/repo.js";
import { createSecretBox } from "../../src/core/webhooks/secret-box.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

// The chaos run's webhook check: which outbox events the receiver should get, and for each one
// it did not get, whether it is still on its way or lost. Real Postgres, real migrations, the
// real dispatcher and claim; the receiver is the set of webhook-ids it counted.

let db: TestDatabase;
const box = createSecretBox(randomBytes(32).toString("base64"));

beforeAll(async () => {
  db = await createTestDatabase();
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

async function newEndpoint(): Promise<string> {
  const made = await db.pool.transaction((tx) =>
    createEndpoint(
      tx,
      { box },
      {
        url: "https://example.com/",
        eventTypes: ["payout.created", "payout.confirmed"],
        description: "",
        by: "t",
      },
    ),
  );
  return made.endpoint.id;
}

const emit = (type: string, subjectId: string) =>
  db.pool.transaction((tx) => emitEvent(tx, { type, subjectId, payload: { id: subjectId } }));

/** Dispatches until the cursor has passed every outbox row (the horizon is cluster-wide). */
async function drain(): Promise<void> {
  const deadline = Date.now() + 30_000;
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

const kinds = (list: readonly Undelivered[]) =>
  Object.fromEntries(list.map((u) => [u.eventId, u.kind]));

describe("the chaos run's webhook census", () => {
  it("counts only public events newer than the endpoint, and sorts the rest by their delivery rows", async () => {
    const older = await emit("payout.created", "po_older");
    const ep = await newEndpoint();
    const internal = await emit("transfer.detected", "tx_1");
    const got = await emit("payout.created", "po_got");
    const acked = await emit("payout.created", "po_acked");
    const gaveUp = await emit("payout.created", "po_gave_up");
    const retry = await emit("payout.created", "po_retry");
    const leased = await emit("payout.created", "po_leased");
    const behind = await emit("payout.confirmed", "po_leased");
    const due = await emit("payout.created", "po_due");
    const dropped = await emit("payout.created", "po_dropped");
    await drain();
    const claimed = await claimDueDeliveries(db.pool, 100, 60_000);
    const row = (eventId: string) => claimed.find((c) => c.event_id === eventId)?.id ?? "";
    expect(row(behind)).toBe(""); // waits for its subject's earlier event
    await db.pool.transaction(async (tx) => {
      await recordAttempt(tx, row(got), { status: "DELIVERED", responseCode: 200, error: "" });
      await recordAttempt(tx, row(acked), { status: "DELIVERED", responseCode: 200, error: "" });
      await recordAttempt(tx, row(gaveUp), { status: "FAILED", responseCode: 500, error: "" });
      await recordAttempt(tx, row(retry), {
        status: "PENDING",
        responseCode: 503,
        error: "",
        retryInMs: 60_000,
      });
      await recordAttempt(tx, row(due), {
        status: "PENDING",
        responseCode: 0,
        error: "timeout",
        retryInMs: 0,
      });
      // What a lost event looks like: the cursor passed it, and no delivery row exists.
      await tx.query(sql.unsafe`DELETE FROM webhook_deliveries WHERE event_id = ${dropped}`);
    });
    const undispatched = await emit("payout.confirmed", "po_got");

    const c = await census(db.pool, ep, new Set([got]));
    expect(c.expected).toBe(9);
    expect(c.received).toBe(1);
    expect(Object.fromEntries(c.notExpected)).toEqual({
      "payout.created (before the endpoint)": 1,
      "webhook_endpoint.created": 1,
      "transfer.detected": 1,
    });
    expect(kinds(c.lost)).toEqual({
      [acked]: "acknowledged, not received",
      [gaveUp]: "given up",
      [dropped]: "never scheduled",
    });
    expect(kinds(c.pending)).toEqual({
      [retry]: "retry scheduled",
      [leased]: "leased",
      [behind]: "behind its subject",
      [due]: "due",
      [undispatched]: "not dispatched yet",
    });
    expect(c.pending.find((u) => u.eventId === retry)?.nextInMs).toBeGreaterThan(50_000);
    expect([...c.lost, ...c.pending].map((u) => u.eventId)).not.toContain(older);
    expect([...c.lost, ...c.pending].map((u) => u.eventId)).not.toContain(internal);
  }, 60_000);

  it("counts a delivery of a disabled endpoint as lost", async () => {
    const ep = await newEndpoint();
    const id = await emit("payout.created", "po_disabled");
    await drain();
    await db.pool.transaction((tx) => updateEndpoint(tx, ep, { state: "DISABLED" }));
    const c = await census(db.pool, ep, new Set());
    expect(kinds(c.lost)).toEqual({ [id]: "endpoint disabled" });
    expect(c.pending).toEqual([]);
  }, 60_000);
});

describe("the chaos run's webhook verdict", () => {
  const settled = (pending: Undelivered["kind"][], lost: Undelivered["kind"][]): Settled => {
    const entry = (kind: Undelivered["kind"], i: number) => ({
      eventId: `evt_${kind}_${i}`,
      type: "payout.created",
      kind,
      nextInMs: kind === "due" ? -10_000 : 30_000,
      detail: "",
    });
    return {
      expected: 10,
      received: 10 - pending.length - lost.length,
      notExpected: new Map(),
      pending: pending.map(entry),
      lost: lost.map(entry),
      pendingAtStart: pending.length,
      waitedMs: 60_000,
      badSignatures: 0,
    };
  };
  const violations = (s: Settled) => {
    const v = { violations: [] as string[] };
    reportWebhooks(s, v, () => {});
    return v.violations;
  };

  it("passes a retry still correctly scheduled, and an event behind it", () => {
    expect(violations(settled(["retry scheduled", "behind its subject"], []))).toEqual([]);
  });

  it("fails on a lost event, and on one stuck after the wait", () => {
    expect(violations(settled([], ["never scheduled"]))).toEqual([
      "webhooks: 1 of 10 events lost (never scheduled 1)",
    ]);
    expect(violations(settled(["leased", "due", "not dispatched yet"], []))).toEqual([
      "webhooks: 3 of 10 events stuck after the wait (leased 1, due 1, not dispatched yet 1)",
    ]);
  });
});
