import { randomBytes } from "node:crypto";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emitEvent } from "../../src/core/kernel/outbox.js";
import { claimDueDeliveries, recordAttempt } from "../../src/core/webhooks/delivery-repo.js";
import { dispatchOutbox } from "../../src/core/webhooks/dispatch.js";
import { createEndpoint } from "../../src/core/webhooks/flows.js";
import { createSecretBox } from "../../src/core/webhooks/secret-box.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
const box = createSecretBox(randomBytes(32).toString("base64"));

beforeAll(async () => {
  db = await createTestDatabase();
}, 30_000);

afterAll(async () => {
  await db?.drop();
});

async function newEndpoint(types = ["payout.created", "payout.confirmed"]): Promise<string> {
  const made = await db.pool.transaction((tx) =>
    createEndpoint(
      tx,
      { box },
      { url: "https://example.com/", eventTypes: types, description: "", by: "t" },
    ),
  );
  return made.endpoint.id;
}

const emit = (type: string, subjectId: string) =>
  db.pool.transaction((tx) => emitEvent(tx, { type, subjectId, payload: { id: subjectId } }));

async function deliveredEvents(endpointId: string): Promise<string[]> {
  const rows = await db.pool.anyFirst(sql.unsafe`
    SELECT event_id FROM webhook_deliveries WHERE endpoint_id = ${endpointId} ORDER BY event_seq`);
  return rows as string[];
}

/**
 * Dispatches until the cursor has passed every outbox row. The horizon is the oldest running
 * transaction in the whole Postgres cluster, so another test's open transaction can delay it.
 */
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

describe("webhook dispatcher and claims (real Postgres)", () => {
  it("does not skip an event whose transaction commits after a later event's", async () => {
    const ep = await newEndpoint();
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let slowId = "";
    const slow = db.pool.transaction(async (tx) => {
      slowId = await emitEvent(tx, { type: "payout.created", subjectId: "po_slow", payload: {} });
      await gate;
    });
    await new Promise((r) => setTimeout(r, 100)); // the slow transaction holds an earlier seq
    const fastId = await emit("payout.created", "po_fast");
    await dispatchOutbox(db.pool);
    expect(await deliveredEvents(ep)).not.toContain(fastId);
    release();
    await slow;
    await drain();
    expect((await deliveredEvents(ep)).sort()).toEqual([slowId, fastId].sort());
  });

  it("queues one delivery per endpoint and event, even when the outbox is read again", async () => {
    const ep = await newEndpoint();
    const id = await emit("payout.confirmed", "po_once");
    await drain();
    await db.pool.query(
      sql.unsafe`UPDATE webhook_dispatch_cursor SET last_txid = '0', last_seq = 0`,
    );
    await drain();
    expect((await deliveredEvents(ep)).filter((e) => e === id)).toHaveLength(1);
  });

  it("skips unsubscribed and internal event types", async () => {
    const ep = await newEndpoint(["payout.confirmed"]);
    const created = await emit("payout.created", "po_types");
    const signed = await emit("payout.signed", "po_types");
    const confirmed = await emit("payout.confirmed", "po_types");
    await drain();
    const got = await deliveredEvents(ep);
    expect(got).toContain(confirmed);
    expect(got).not.toContain(created);
    expect(got).not.toContain(signed);
  });

  it("claims a subject's next event only after the earlier one is finished", async () => {
    await db.pool.query(sql.unsafe`UPDATE webhook_deliveries SET status = 'DELIVERED'`);
    const ep = await newEndpoint(["payout.created", "payout.confirmed"]);
    const first = await emit("payout.created", "po_order");
    const second = await emit("payout.confirmed", "po_order");
    await drain();
    const claimed = await claimDueDeliveries(db.pool, 10, 60_000);
    const mine = claimed.filter((c) => c.endpoint_id === ep);
    expect(mine.map((c) => c.event_id)).toEqual([first]);
    // The first is in flight (leased, still PENDING): the second, though due, stays blocked.
    expect(
      (await claimDueDeliveries(db.pool, 10, 60_000)).filter((c) => c.endpoint_id === ep),
    ).toEqual([]);
    await db.pool.transaction((tx) =>
      recordAttempt(tx, mine[0]?.id ?? "", { status: "DELIVERED", responseCode: 200, error: "" }),
    );
    const next = (await claimDueDeliveries(db.pool, 10, 60_000)).filter(
      (c) => c.endpoint_id === ep,
    );
    expect(next.map((c) => c.event_id)).toEqual([second]);
  });
});
