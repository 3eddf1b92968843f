import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PayoutAttemptState,
  PayoutService,
  PayoutState,
} from "../../src/gen/tronpay/v1/payout_pb.js";
import { newTestAccount, waitFor } from "../devnet/helpers.js";
import { fundedWallet, usdtBalance, usdtPayout, waitForPayout } from "../helpers/payouts.js";
import { type Stack, startStack } from "../helpers/stack.js";

// Exactly once through crashes: core is killed with SIGKILL at a chosen point (a failpoint),
// restarted without it, and the payout must end CONFIRMED with the recipient paid once —
// checked on the devnet's chain, not in our own database.
let stack: Stack;
let wallet: { id: string; address: string };

beforeAll(async () => {
  stack = await startStack({
    coreEnv: {
      TRONPAY_TX_LIFETIME_SEC: "10",
      TRONPAY_EXPIRY_MARGIN_MS: "1000",
      TRONPAY_LEASE_MS: "2000",
    },
  });
  wallet = await fundedWallet(stack);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

async function crashOnce(failpoint: string, amount: string) {
  stack.coreEnv.TRONPAY_FAILPOINT = failpoint;
  await stack.restartCore();
  const to = newTestAccount().address;
  const { payout } = await stack
    .client(PayoutService)
    .createPayout(usdtPayout(`crash-${failpoint}`, wallet.id, to, amount));
  const died = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 30_000);
    stack.core.child.once("exit", (_code, signal) => {
      clearTimeout(timer);
      resolve(signal === "SIGKILL");
    });
  });
  expect(died).toBe(true);
  delete stack.coreEnv.TRONPAY_FAILPOINT;
  await stack.restartCore();
  const done = await waitForPayout(stack, payout?.id ?? "");
  return { done, to };
}

function expectOneIncluded(attempts: { state: PayoutAttemptState }[]) {
  expect(attempts.filter((a) => a.state === PayoutAttemptState.INCLUDED)).toHaveLength(1);
  expect(attempts.at(-1)?.state).toBe(PayoutAttemptState.INCLUDED);
  expect(attempts.slice(0, -1).every((a) => a.state === PayoutAttemptState.EXPIRED)).toBe(true);
}

describe("core killed with SIGKILL and restarted", () => {
  it.each([
    ["after the signer answered, before the attempt is stored", "after_signed", "0.75"],
    ["after the signed attempt is stored, before broadcast", "after_attempt_stored", "1.25"],
    ["after broadcast, before it is recorded", "after_broadcast", "2.5"],
    ["while confirming", "before_settle", "3.75"],
  ])(
    "%s: pays exactly once",
    async (_name, failpoint, amount) => {
      const { done, to } = await crashOnce(failpoint, amount);
      expect(PayoutState[done.state]).toBe("CONFIRMED");
      // Usually one attempt; on a slow machine the first may expire before the restart, and
      // then exactly one later attempt is included and every earlier one provably expired.
      expectOneIncluded(done.attempts);
      expect(await usdtBalance(stack, to)).toBe(BigInt(Math.round(Number(amount) * 1e6)));
    },
    90_000,
  );
});

describe("the node misbehaving", () => {
  it("pays once when broadcasts are accepted but dropped: a new attempt only after the first expired", async () => {
    stack.net.devnet.admin.setFaults({ dropRate: 1 });
    const to = newTestAccount().address;
    const payouts = stack.client(PayoutService);
    const { payout } = await payouts.createPayout(usdtPayout("drop-1", wallet.id, to, "4"));
    // Rebroadcasts of the same bytes are dropped too, until the attempt provably expired.
    await waitFor(async () => {
      const { payout: p } = await payouts.getPayout({ id: payout?.id ?? "" });
      return p?.attempts[0]?.state === PayoutAttemptState.EXPIRED ? p : undefined;
    }, 60_000);
    stack.net.devnet.admin.setFaults({ dropRate: 0 });
    const done = await waitForPayout(stack, payout?.id ?? "");
    expect(PayoutState[done.state]).toBe("CONFIRMED");
    expect(done.attempts.length).toBeGreaterThanOrEqual(2);
    const first = done.attempts[0];
    const last = done.attempts.at(-1);
    expect(first?.state).toBe(PayoutAttemptState.EXPIRED);
    expect(last?.state).toBe(PayoutAttemptState.INCLUDED);
    expect(await usdtBalance(stack, to)).toBe(4_000_000n);
  }, 90_000);

  it("pays once when the broadcast is included but answered with a dropped connection", async () => {
    stack.net.devnet.admin.setFaults({ timeoutRate: 1 });
    const to = newTestAccount().address;
    const { payout } = await stack
      .client(PayoutService)
      .createPayout(usdtPayout("timeout-1", wallet.id, to, "5"));
    const done = await waitForPayout(stack, payout?.id ?? "");
    stack.net.devnet.admin.setFaults({ timeoutRate: 0 });
    expect(PayoutState[done.state]).toBe("CONFIRMED");
    expectOneIncluded(done.attempts);
    expect(await usdtBalance(stack, to)).toBe(5_000_000n);
  }, 90_000);

  it("pays once through intermittent 5xx answers", async () => {
    stack.net.devnet.admin.setFaults({ errorRate: 0.4 });
    const to = newTestAccount().address;
    const payout = await (async () => {
      for (;;) {
        try {
          return (
            await stack.client(PayoutService).createPayout(usdtPayout("5xx-1", wallet.id, to, "6"))
          ).payout;
        } catch {
          // CreatePayout itself does not touch the node; retry only for safety.
        }
      }
    })();
    const done = await waitForPayout(stack, payout?.id ?? "");
    stack.net.devnet.admin.setFaults({ errorRate: 0 });
    expect(PayoutState[done.state]).toBe("CONFIRMED");
    expect(await usdtBalance(stack, to)).toBe(6_000_000n);
  }, 90_000);

  it("waits through stalled solidification without replacing the attempt", async () => {
    stack.net.devnet.admin.setFaults({ stallSolidity: true });
    const to = newTestAccount().address;
    const { payout } = await stack
      .client(PayoutService)
      .createPayout(usdtPayout("stall-1", wallet.id, to, "7"));
    await waitForPayout(stack, payout?.id ?? "", 30_000, [PayoutState.BROADCAST]);
    // Well past the attempt's expiration on the head chain, but the solidified chain is stuck.
    await new Promise((r) => setTimeout(r, 9_000));
    const stalled = (await stack.client(PayoutService).getPayout({ id: payout?.id ?? "" })).payout;
    expect(PayoutState[stalled?.state ?? 0]).toBe("BROADCAST");
    expect(stalled?.attempts).toHaveLength(1);
    stack.net.devnet.admin.setFaults({ stallSolidity: false });
    const done = await waitForPayout(stack, payout?.id ?? "");
    expect(PayoutState[done.state]).toBe("CONFIRMED");
    expect(done.attempts).toHaveLength(1);
    expect(await usdtBalance(stack, to)).toBe(7_000_000n);
  }, 90_000);
});
