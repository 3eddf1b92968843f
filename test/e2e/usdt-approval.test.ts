import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createApiKey } from "../../src/core/auth/keys.js";
import { Role } from "../../src/gen/tronpay/v1/options_pb.js";
import { PayoutRoute, PayoutService, PayoutState } from "../../src/gen/tronpay/v1/payout_pb.js";
import { UsdtService } from "../../src/gen/tronpay/v1/usdt_pb.js";
import { reasonOf } from "../../src/shared/errors.js";
import { newTestAccount } from "../devnet/helpers.js";
import { fundedWallet, usdtBalance, waitForPayout } from "../helpers/payouts.js";
import { type Stack, startStack } from "../helpers/stack.js";

// A USDT transfer made through UsdtService is a payout in all but name: held for a second
// principal above the approval threshold, approved, cancelled and retried through
// PayoutService like any payout. Real devnet, signer and core processes.
let stack: Stack;
let payer: { id: string; address: string };
let approverKey: string;

beforeAll(async () => {
  stack = await startStack({ coreEnv: { TRONPAY_APPROVAL_THRESHOLD: "100" } });
  payer = await fundedWallet(stack, 10_000n, 10_000n);
  const approver = await stack.db.pool.transaction((tx) =>
    createApiKey(tx, {
      name: "approver",
      roles: [Role.APPROVER],
      // Another person than the admin who creates the transfers (owner "bootstrap").
      owner: "approver",
      createdBy: "test",
      now: Date.now(),
    }),
  );
  approverKey = approver.key;
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

let n = 0;
const key = (prefix: string) => `${prefix}-${++n}`;
const failure = (p: Promise<unknown>) => p.then(() => "succeeded", reasonOf);

function transfer(walletId: string, to: string, amount: string) {
  return stack.client(UsdtService).transfer({
    idempotencyKey: key("t"),
    walletId,
    toAddress: to,
    amount,
    route: PayoutRoute.V0,
  });
}

async function kindOf(id: string): Promise<string> {
  return stack.db.pool.oneFirst(
    sql.type(z.object({ kind: z.string() }))`SELECT kind FROM operations WHERE id = ${id}`,
  );
}

async function attemptCount(id: string): Promise<number> {
  return stack.db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM attempts WHERE operation_id = ${id}`);
}

describe("USDT transfers above the approval threshold", () => {
  it("holds one until a different principal approves it through PayoutService; it confirms on the devnet", async () => {
    const to = newTestAccount().address;
    const { operation, payout } = await transfer(payer.id, to, "150");
    const id = payout?.id ?? "";
    expect(operation?.id).toBe(id);
    expect(payout?.state).toBe(PayoutState.AWAITING_APPROVAL);
    expect(await kindOf(id)).toBe("USDT_TRANSFER");
    // Listed and read like any payout.
    const payouts = stack.client(PayoutService);
    expect((await payouts.getPayout({ id })).payout?.state).toBe(PayoutState.AWAITING_APPROVAL);
    const { payouts: waiting } = await payouts.listPayouts({
      states: [PayoutState.AWAITING_APPROVAL],
    });
    expect(waiting.map((p) => p.id)).toContain(id);
    // Four eyes: not its creator.
    expect(await failure(payouts.approvePayout({ idempotencyKey: key("a"), id }))).toBe(
      "auth.permission_denied",
    );
    const approved = await stack
      .client(PayoutService, approverKey)
      .approvePayout({ idempotencyKey: key("a"), id, comment: "checked" });
    expect(approved.payout?.approvedBy).toMatch(/^key:/);
    const done = await waitForPayout(stack, id);
    expect(PayoutState[done.state]).toBe("CONFIRMED");
    expect(done.attempts).toHaveLength(1);
    expect(await usdtBalance(stack, to)).toBe(150_000_000n);
    // Still a USDT transfer, and its approval was announced like a payout's.
    expect(await kindOf(id)).toBe("USDT_TRANSFER");
    const events = await stack.db.pool.anyFirst(sql.type(z.object({ type: z.string() }))`
      SELECT type FROM outbox WHERE subject_id = ${id} ORDER BY seq`);
    expect(events).toContain("payout.approved");
    expect(events).toContain("payout.confirmed");
  }, 90_000);

  it("cancels another before approval: it is never signed and never reaches the chain", async () => {
    const to = newTestAccount().address;
    const { payout } = await transfer(payer.id, to, "120");
    const id = payout?.id ?? "";
    expect(payout?.state).toBe(PayoutState.AWAITING_APPROVAL);
    const { payout: cancelled } = await stack
      .client(PayoutService)
      .cancelPayout({ idempotencyKey: key("c"), id, reason: "wrong amount" });
    expect(cancelled?.state).toBe(PayoutState.CANCELLED);
    expect(cancelled?.cancelReason).toBe("wrong amount");
    // Too late to approve or retry.
    const approver = stack.client(PayoutService, approverKey);
    expect(await failure(approver.approvePayout({ idempotencyKey: key("a"), id }))).toBe(
      "payout.invalid_state",
    );
    expect(
      await failure(stack.client(PayoutService).retryPayout({ idempotencyKey: key("r"), id })),
    ).toBe("payout.invalid_state");
    // Blocks go by; the engine never takes it up.
    stack.net.solidify();
    await new Promise((r) => setTimeout(r, 2_000));
    stack.net.solidify();
    expect(await attemptCount(id)).toBe(0);
    expect(await usdtBalance(stack, to)).toBe(0n);
    expect((await stack.client(PayoutService).getPayout({ id })).payout?.state).toBe(
      PayoutState.CANCELLED,
    );
  }, 60_000);
});

describe("retrying a USDT transfer", () => {
  it("puts a HELD transfer back in the queue through RetryPayout once its wallet is funded", async () => {
    const poor = await fundedWallet(stack, 1_000n, 0n);
    const to = newTestAccount().address;
    const { payout } = await transfer(poor.id, to, "5");
    const id = payout?.id ?? "";
    const held = await waitForPayout(stack, id, 30_000, [PayoutState.HELD]);
    expect(held.holdReason).toBe("wallet.insufficient_usdt");
    stack.net.devnet.admin.fund(poor.address, { usdt: 5_000_000n });
    stack.net.solidify();
    const { payout: retried } = await stack
      .client(PayoutService)
      .retryPayout({ idempotencyKey: key("r"), id });
    expect(retried?.state).toBe(PayoutState.QUEUED);
    const done = await waitForPayout(stack, id);
    expect(PayoutState[done.state]).toBe("CONFIRMED");
    expect(await usdtBalance(stack, to)).toBe(5_000_000n);
    const retryAudit = await stack.db.pool.anyFirst(sql.type(z.object({ actor: z.string() }))`
      SELECT actor FROM audit_log WHERE subject = ${id} AND action = 'payout.queued'
        AND details->>'retry' = 'true'`);
    expect(retryAudit).toHaveLength(1);
    expect(retryAudit[0]).toMatch(/^key:/);
  }, 90_000);
});
