import { ConnectError } from "@connectrpc/connect";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createApiKey } from "../../src/core/auth/keys.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { AdminService } from "../../src/gen/tronpay/v1/admin_pb.js";
import { OperationState, Resource } from "../../src/gen/tronpay/v1/common_pb.js";
import { OperationService } from "../../src/gen/tronpay/v1/operation_pb.js";
import { Role } from "../../src/gen/tronpay/v1/options_pb.js";
import { PayeeService } from "../../src/gen/tronpay/v1/payee_pb.js";
import { PayoutService, PayoutState } from "../../src/gen/tronpay/v1/payout_pb.js";
import { StakingService } from "../../src/gen/tronpay/v1/staking_pb.js";
import { UsdtService } from "../../src/gen/tronpay/v1/usdt_pb.js";
import { WalletPurpose, WalletService } from "../../src/gen/tronpay/v1/wallet_pb.js";
import { newTestAccount } from "../devnet/helpers.js";
import { fundedWallet, usdtBalance, usdtPayout, waitForPayout } from "../helpers/payouts.js";
import { type Stack, startStack } from "../helpers/stack.js";

// Issue 16, item 4: core accepted what the signer would refuse (a memo, a recipient off the
// signer's allowlist, an allowance to a foreign spender) and retried it for ever. Real devnet,
// signer and core: core refuses each at the API with the signer's reason and rule, and an
// operation the signer refuses at signing (its policy changed after core accepted it) ends
// FAILED with an event and a metric, once, and stops counting toward the daily limit.
let stack: Stack;
let payer: { id: string; address: string };
let approverKey: string;
let adminUrl: string;
const allowed = newTestAccount().address;
const later = newTestAccount().address;

/** The reason and metadata.rule of a call that must fail, after checking nothing was stored. */
async function refusal(call: () => Promise<unknown>): Promise<{ reason?: string; rule?: string }> {
  const count = () =>
    stack.db.pool.oneFirst(
      sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM operations`,
    );
  const before = await count();
  const result = await call().then(
    () => ({ reason: "succeeded" }),
    (err: unknown) => {
      const info = err instanceof ConnectError ? err.findDetails(ErrorInfoSchema)[0] : undefined;
      return { reason: info?.reason, rule: info?.metadata.rule };
    },
  );
  expect(await count()).toBe(before);
  return result;
}

async function metric(name: string): Promise<string> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  return text.split("\n").find((l) => l.startsWith(name)) ?? "";
}

beforeAll(async () => {
  stack = await startStack({
    signerEnv: { TRONPAY_SIGNER_ALLOWLIST: allowed, TRONPAY_SIGNER_MAX_PER_TX_USDT: "500" },
    coreEnv: { TRONPAY_APPROVAL_THRESHOLD: "100", TRONPAY_PAYEE_COOLING_OFF_SEC: "0" },
  });
  adminUrl = String((await stack.core.waitForLog("core ready")).adminUrl);
  payer = await fundedWallet(stack, 100_000n, 10_000n);
  const approver = await stack.db.pool.transaction((tx) =>
    createApiKey(tx, {
      name: "approver",
      roles: [Role.APPROVER],
      owner: "approver",
      createdBy: "t",
      now: Date.now(),
    }),
  );
  approverKey = approver.key;
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

describe("requests the signer's policy refuses", () => {
  it("refuses a payout with a memo (the signer allows none) with the signer's reason", async () => {
    const payouts = stack.client(PayoutService);
    const r = await refusal(() =>
      payouts.createPayout({ ...usdtPayout("memo-1", payer.id, allowed, "1"), memo: "hello" }),
    );
    expect(r).toEqual({ reason: "signer.policy_denied", rule: "memo" });
  });

  it("refuses a payout to a recipient off the signer's allowlist, and pays one on it", async () => {
    const payouts = stack.client(PayoutService);
    const off = newTestAccount().address;
    const r = await refusal(() => payouts.createPayout(usdtPayout("al-1", payer.id, off, "1")));
    expect(r).toEqual({ reason: "signer.policy_denied", rule: "allowlist" });
    const { payout } = await payouts.createPayout(usdtPayout("al-2", payer.id, allowed, "2"));
    const done = await waitForPayout(stack, payout?.id ?? "");
    expect(PayoutState[done.state]).toBe("CONFIRMED");
    expect(await usdtBalance(stack, allowed)).toBe(2_000_000n);
  }, 60_000);

  it("refuses a payout above the signer's per-transaction cap, though within the route's limit", async () => {
    const payouts = stack.client(PayoutService);
    const r = await refusal(() =>
      payouts.createPayout(usdtPayout("cap-1", payer.id, allowed, "500.000001")),
    );
    expect(r).toEqual({ reason: "signer.policy_denied", rule: "max_per_tx" });
  });

  it("refuses an allowance to a foreign spender (an allowlisted payee) since the signer grants only its own keys", async () => {
    const foreign = newTestAccount().address;
    await stack.client(PayeeService).createPayee({
      idempotencyKey: "payee-1",
      tag: "partner",
      displayName: "Partner",
      address: foreign,
      allowlisted: true,
    });
    const usdt = stack.client(UsdtService);
    const r = await refusal(() =>
      usdt.approve({
        idempotencyKey: "ap-1",
        walletId: payer.id,
        spenderAddress: foreign,
        amount: "10",
      }),
    );
    expect(r).toEqual({ reason: "signer.policy_denied", rule: "approve_spender" });
  });
});

describe("what the signer allows", () => {
  it("accepts an allowance to a wallet derived after core last read the signer's keys", async () => {
    // Core has read the policy and the keys (the tests above); the wallet is newer than that.
    await refusal(() =>
      stack.client(PayoutService).createPayout({
        ...usdtPayout("memo-2", payer.id, allowed, "1"),
        memo: "x",
      }),
    );
    const { wallet } = await stack.client(WalletService).createWallet({
      idempotencyKey: "w-new-spender",
      label: "new spender",
      purpose: WalletPurpose.PAYOUT,
    });
    const { operation } = await stack.client(UsdtService).approve({
      idempotencyKey: "ap-new",
      walletId: payer.id,
      spenderAddress: wallet?.address ?? "",
      amount: "10",
    });
    expect(operation?.state).toBe(OperationState.QUEUED);
  });
});

describe("an operation the signer refuses at signing", () => {
  it("ends FAILED with the signer's reason, an event and a metric, is not retried, and stops counting toward the day", async () => {
    const payouts = stack.client(PayoutService);
    // Accepted while the recipient is on the signer's allowlist; waits for a second person.
    const { payout } = await payouts.createPayout(usdtPayout("late-1", payer.id, allowed, "150"));
    const id = payout?.id ?? "";
    expect(payout?.state).toBe(PayoutState.AWAITING_APPROVAL);
    const used = () =>
      stack.db.pool.oneFirst(sql.type(z.object({ n: z.bigint() }))`
        SELECT coalesce(sum(o.amount), 0)::bigint AS n FROM operations o JOIN payouts p ON p.id = o.id
        WHERE p.route = 'V0' AND o.state NOT IN ('CANCELLED', 'FAILED')`);
    const usedBefore = await used();
    // The signer's policy changes: the recipient is no longer allowed.
    stack.signerEnv.TRONPAY_SIGNER_ALLOWLIST = later;
    await stack.restartSigner();
    await stack
      .client(PayoutService, approverKey)
      .approvePayout({ idempotencyKey: "late-a", id, comment: "ok" });
    const failed = await waitForPayout(stack, id, 30_000);
    expect(PayoutState[failed.state]).toBe("FAILED");
    expect(failed.failureReason).toBe("signer.policy_denied");
    expect(failed.failureDetail).toMatch(/^allowlist: /);
    expect(failed.attempts).toEqual([]);
    expect(await used()).toBe(usedBefore - 150_000_000n);
    const events = await stack.db.pool.anyFirst(sql.type(z.object({ type: z.string() }))`
      SELECT type FROM outbox WHERE subject_id = ${id} ORDER BY seq`);
    expect(events.filter((t) => t === "payout.failed")).toHaveLength(1);
    expect(await metric('tronpay_signer_policy_refusals_total{rule="allowlist"}')).toMatch(/ 1$/);
    // Not retried: the engine leaves it alone, and logs no retry for it.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await payouts.getPayout({ id })).payout?.state).toBe(PayoutState.FAILED);
    const retries = stack.core.lines.filter(
      (l) => l.includes(id) && l.includes("engine step failed"),
    );
    expect(retries).toEqual([]);
  }, 90_000);
});

describe("operations other than payouts", () => {
  it("are read and cancelled through OperationService, and a replay answers the cancelled state", async () => {
    const admin = stack.client(AdminService);
    await admin.pausePayouts({ idempotencyKey: "pause-1", reason: "test" });
    try {
      const request = {
        idempotencyKey: "stake-1",
        walletId: payer.id,
        amount: "100",
        resource: Resource.ENERGY,
      };
      const { operation } = await stack.client(StakingService).stake(request);
      const id = operation?.id ?? "";
      const ops = stack.client(OperationService);
      expect((await ops.getOperation({ id })).operation?.state).toBe(OperationState.QUEUED);
      const cancelled = await ops.cancelOperation({
        idempotencyKey: "cancel-1",
        id,
        reason: "not now",
      });
      expect(cancelled.operation?.state).toBe(OperationState.CANCELLED);
      expect((await ops.getOperation({ id })).operation?.state).toBe(OperationState.CANCELLED);
      const replay = await stack.client(StakingService).stake(request);
      expect(replay.operation?.id).toBe(id);
      expect(replay.operation?.state).toBe(OperationState.CANCELLED);
      const again = await refusal(() =>
        ops.cancelOperation({ idempotencyKey: "cancel-2", id, reason: "twice" }),
      );
      expect(again.reason).toBe("payout.invalid_state");
      const missing = await refusal(() => ops.getOperation({ id: "op_missing" }));
      expect(missing.reason).toBe("request.not_found");
      const empty = await refusal(() => ops.getOperation({ id: "" }));
      expect(empty.reason).toBe("request.invalid");
    } finally {
      await admin.resumePayouts({ idempotencyKey: "resume-1" });
    }
  }, 30_000);
});
