import { create } from "@bufbuild/protobuf";
import { createContextValues, createHandlerContext } from "@connectrpc/connect";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { transition } from "../../src/core/engine/repo.js";
import { principalKey } from "../../src/core/kernel/context.js";
import { idempotentWrites } from "../../src/core/kernel/idempotent-writes.js";
import { createOperationHandlers, operationWrites } from "../../src/core/operations/handlers.js";
import { insertOperation } from "../../src/core/operations/repo.js";
import { createBatch, createPayout } from "../../src/core/payouts/flows.js";
import { retryPayout } from "../../src/core/payouts/retry.js";
import {
  recordAttempt,
  redeliverFailed,
  redeliverOne,
} from "../../src/core/webhooks/delivery-repo.js";
import {
  applyOutcome,
  type EndpointOutcome,
  insertEndpoint,
  updateEndpoint,
} from "../../src/core/webhooks/repo.js";
import {
  CancelOperationRequestSchema,
  OperationService,
} from "../../src/gen/tronpay/v1/operation_pb.js";
import { reasonOf } from "../../src/shared/errors.js";
import { newTestAccount } from "../devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { insertPayoutWallet, payoutInput, USDT, uniformRules } from "../helpers/payout-db.js";

/** The product's state changes go through the tables of engine/state.ts, operator moves too. */

let db: TestDatabase;
const wallet = { id: "wal_states", address: newTestAccount().address };
const rules = uniformRules(1_000n * USDT, 100_000n * USDT, 500n * USDT);
const alice = { principal: "key:alice", now: Date.now() };
let seq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  await insertPayoutWallet(db, wallet);
}, 30_000);

afterAll(async () => {
  await db?.drop();
});

const fail = (p: Promise<unknown>) => p.then(() => "no error", reasonOf);

const State = z.object({ state: z.string() });
const stateOf = (id: string) =>
  db.pool.oneFirst(sql.type(State)`SELECT state FROM operations WHERE id = ${id}`);

const Audit = z.object({ action: z.string(), actor: z.string(), details: z.unknown() });
const Event = z.object({ type: z.string(), payload: z.unknown() });

async function failedBatchPayout() {
  const { batchId, payoutIds } = await db.pool.transaction((tx) =>
    createBatch(tx, rules, alice, `b-${++seq}`, [{ reference: "", input: payoutInput(wallet.id) }]),
  );
  const id = payoutIds[0] as string;
  await db.pool.transaction((tx) =>
    transition(
      tx,
      { id, kind: "PAYOUT" },
      "QUEUED",
      "FAILED",
      { failureReason: "chain.revert" },
      "t",
    ),
  );
  return { batchId, id };
}

describe("RetryPayout through the operator table", () => {
  it("moves FAILED → QUEUED with transition()'s audit row and event, and reopens the batch", async () => {
    const { batchId, id } = await failedBatchPayout();
    const Batch = z.object({ state: z.string(), completed_at: z.number().nullable() });
    const batchRow = () =>
      db.pool.one(
        sql.type(Batch)`SELECT state, completed_at FROM payout_batches WHERE id = ${batchId}`,
      );
    expect((await batchRow()).state).toBe("FAILED");
    // A signed attempt that never left us is expired, so that the new one can be made.
    await db.pool.query(sql.unsafe`
      INSERT INTO attempts (operation_id, attempt_no, tx_id, raw_data, signature, expiration, state)
      VALUES (${id}, 1, ${"ab".repeat(32)}, '\\x00', ${sql.binary(Buffer.alloc(65))}, now(), 'SIGNED')`);

    const row = await db.pool.transaction((tx) => retryPayout(tx, rules, alice, id));

    expect(row.state).toBe("QUEUED");
    expect(row.failure_reason).toBeNull();
    const details = { from: "FAILED", to: "QUEUED", retry: true, previousFailure: "chain.revert" };
    const audit = await db.pool.one(sql.type(Audit)`
      SELECT action, actor, details FROM audit_log WHERE subject = ${id} ORDER BY seq DESC LIMIT 1`);
    expect(audit).toEqual({ action: "payout.queued", actor: alice.principal, details });
    const event = await db.pool.one(sql.type(Event)`
      SELECT type, payload FROM outbox WHERE subject_id = ${id} ORDER BY seq DESC LIMIT 1`);
    expect(event).toEqual({
      type: "payout.queued",
      payload: { id, kind: "PAYOUT", ...details },
    });
    const attempt = await db.pool.oneFirst(sql.type(State)`
      SELECT state FROM attempts WHERE operation_id = ${id}`);
    expect(attempt).toBe("EXPIRED");
    expect(await batchRow()).toEqual({ state: "PROCESSING", completed_at: null });
  });

  it("is refused to the engine: FAILED goes nowhere on the engine's own", async () => {
    const { id } = await failedBatchPayout();
    const engineRetry = db.pool.transaction((tx) =>
      transition(tx, { id, kind: "PAYOUT" }, "FAILED", "QUEUED", {}, "system:engine"),
    );
    expect(await fail(engineRetry)).toBe("payout.invalid_state");
    expect(await stateOf(id)).toBe("FAILED");
  });
});

describe("transition()", () => {
  it("refuses a move in neither table and writes nothing", async () => {
    const p = await db.pool.transaction((tx) =>
      createPayout(tx, rules, alice, `p-${++seq}`, payoutInput(wallet.id)),
    );
    const Count = z.object({ n: z.number() });
    const audits = () =>
      db.pool.oneFirst(
        sql.type(Count)`SELECT count(*)::int AS n FROM audit_log WHERE subject = ${p.id}`,
      );
    const before = await audits();
    for (const by of ["engine", "operator"] as const) {
      const move = db.pool.transaction((tx) =>
        transition(tx, p, "QUEUED", "CONFIRMED", { confirmed: true }, alice.principal, {}, by),
      );
      expect(await fail(move)).toBe("payout.invalid_state");
    }
    // An operator cannot sign, and the engine cannot cancel.
    expect(
      await fail(
        db.pool.transaction((tx) =>
          transition(tx, p, "QUEUED", "SIGNED", {}, alice.principal, {}, "operator"),
        ),
      ),
    ).toBe("payout.invalid_state");
    expect(
      await fail(
        db.pool.transaction((tx) => transition(tx, p, "QUEUED", "CANCELLED", {}, "system:engine")),
      ),
    ).toBe("payout.invalid_state");
    expect(await stateOf(p.id)).toBe("QUEUED");
    expect(await audits()).toBe(before);
  });
});

describe("webhook endpoint states in the database", () => {
  it("follow the tables of webhooks/states.ts on delivery outcomes and operator updates", async () => {
    const id = `wh_states_${++seq}`;
    await insertEndpoint(db.pool, {
      id,
      url: "https://example.test/hook",
      eventTypes: ["payout.created"],
      description: "",
      secretEnc: Buffer.alloc(48),
      by: alice.principal,
    });
    const outcome = (o: EndpointOutcome) => db.pool.transaction((tx) => applyOutcome(tx, id, o));
    expect(await outcome("failure")).toEqual({ from: "ACTIVE", to: "ACTIVE" });
    expect(await outcome("gave_up")).toEqual({ from: "ACTIVE", to: "FAILING" });
    expect(await outcome("gave_up")).toEqual({ from: "FAILING", to: "FAILING" });
    expect(await outcome("success")).toEqual({ from: "FAILING", to: "ACTIVE" });
    expect(await outcome("gone")).toEqual({ from: "ACTIVE", to: "DISABLED" });
    // Deliveries never enable an endpoint again; an administrator does.
    expect(await outcome("success")).toEqual({ from: "DISABLED", to: "DISABLED" });
    const enabled = await db.pool.transaction((tx) => updateEndpoint(tx, id, { state: "ACTIVE" }));
    expect(enabled.state).toBe("ACTIVE");
    expect(enabled.consecutive_failures).toBe(0);
    // Deliveries settle once; a redelivery (of a delivered one too) makes them PENDING again.
    await db.pool.query(sql.unsafe`
      INSERT INTO outbox (event_id, type, subject_id, payload)
      VALUES ('ev_states_1', 'payout.created', 'po_1', '{}'), ('ev_states_2', 'payout.created', 'po_2', '{}')`);
    await db.pool.query(sql.unsafe`
      INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_seq, event_type, subject_id)
      SELECT 'whd_' || event_id, ${id}, event_id, seq, type, subject_id FROM outbox
      WHERE event_id IN ('ev_states_1', 'ev_states_2')`);
    const record = (d: string, status: "DELIVERED" | "FAILED") =>
      db.pool.transaction((tx) => recordAttempt(tx, d, { status, responseCode: 200, error: "" }));
    expect(await record("whd_ev_states_1", "DELIVERED")).toBe(true);
    expect(await record("whd_ev_states_2", "FAILED")).toBe(true);
    expect(await record("whd_ev_states_1", "FAILED")).toBe(false);
    expect(await db.pool.transaction((tx) => redeliverFailed(tx, id))).toBe(1);
    const again = await db.pool.transaction((tx) => redeliverOne(tx, "whd_ev_states_1"));
    expect(again.status).toBe("PENDING");
    // FAILING is the deliveries' to set, not an administrator's.
    await expect(
      db.pool.transaction((tx) => updateEndpoint(tx, id, { state: "FAILING" })),
    ).rejects.toThrow("cannot go from ACTIVE to FAILING");
  });
});

describe("CancelOperation of an engine operation", () => {
  it("cancels through the operator table, and refuses once the engine has signed", async () => {
    const newOp = () =>
      db.pool.transaction((tx) =>
        insertOperation(tx, {
          kind: "DELEGATE",
          asset: "TRX",
          amount: 1_000_000n,
          walletId: wallet.id,
          ownerAddress: wallet.address,
          counterpartyAddress: newTestAccount().address,
          resource: "ENERGY",
          lockPeriodBlocks: 0n,
          principal: alice.principal,
        }),
      );
    const handlers = idempotentWrites(
      db.pool,
      OperationService,
      createOperationHandlers({ pool: db.pool, clock: () => Date.now() }),
      operationWrites(db.pool),
    );
    const values = createContextValues().set(principalKey, { id: alice.principal, roles: [] });
    const ctx = createHandlerContext({
      service: OperationService,
      method: OperationService.method.cancelOperation,
      protocolName: "connect",
      requestMethod: "POST",
      url: "http://127.0.0.1/",
      contextValues: values,
    });
    const cancel = (id: string) =>
      handlers.cancelOperation?.(
        create(CancelOperationRequestSchema, { id, reason: "no", idempotencyKey: `x-${++seq}` }),
        ctx,
      );
    const queued = await newOp();
    await cancel(queued.id);
    expect(await stateOf(queued.id)).toBe("CANCELLED");
    const Audit = z.object({ action: z.string(), details: z.unknown() });
    expect(
      await db.pool.one(sql.type(Audit)`
        SELECT action, details FROM audit_log WHERE subject = ${queued.id} ORDER BY seq DESC LIMIT 1`),
    ).toEqual({
      action: "operation.cancelled",
      details: { from: "QUEUED", to: "CANCELLED", reason: "no" },
    });
    const signed = await newOp();
    await db.pool.transaction((tx) => transition(tx, signed, "QUEUED", "SIGNED", {}, "t"));
    expect(await fail(Promise.resolve(cancel(signed.id)))).toBe("payout.invalid_state");
    expect(await stateOf(signed.id)).toBe("SIGNED");
  });
});
