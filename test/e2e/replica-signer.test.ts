import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PayoutAttemptState,
  PayoutService,
  PayoutState,
} from "../../src/gen/tronpay/v1/payout_pb.js";
import { newTestAccount, waitFor } from "../devnet/helpers.js";
import { fundedWallet, usdtBalance, usdtPayout, waitForPayout } from "../helpers/payouts.js";
import { type Stack, startStack } from "../helpers/stack.js";

// Core replicas each have their own signer and journal (deploy/k8s). An attempt signed by one
// pod's signer expires unpaid, that pod is gone, and the replacement is asked of a signer whose
// journal never saw the operation: core sends the stored bytes of the expired attempt, the
// signer checks them, and the payout is paid exactly once — checked on the devnet's chain.
let stack: Stack;
let journalDir = "";

beforeAll(async () => {
  stack = await startStack({
    coreEnv: { TRONPAY_TX_LIFETIME_SEC: "8", TRONPAY_EXPIRY_MARGIN_MS: "1000" },
  });
  journalDir = mkdtempSync(join(tmpdir(), "tp-journal-"));
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  if (journalDir) rmSync(journalDir, { recursive: true, force: true });
});

describe("a replacement signed by another replica's signer", () => {
  it("pays once after the signer of the expired attempt is replaced by one with a new journal", async () => {
    const wallet = await fundedWallet(stack);
    const client = stack.client(PayoutService);
    const to = newTestAccount().address;
    // Every broadcast is lost: the first attempt can only expire.
    stack.net.devnet.admin.setFaults({ dropRate: 1 });
    const { payout } = await client.createPayout(usdtPayout("replica-1", wallet.id, to, "2.5"));
    const id = payout?.id ?? "";
    const first = await waitFor(async () => {
      const got = (await client.getPayout({ id })).payout;
      return got?.attempts[0];
    }, 30_000);

    // The pod is replaced: same keystore, a journal that never saw this operation. Broadcasts
    // stay lost until the first attempt has expired, so the new signer must replace it.
    stack.signerEnv.TRONPAY_SIGNER_JOURNAL = join(journalDir, "journal.log");
    await stack.restartSigner();
    await waitFor(async () => {
      const got = (await client.getPayout({ id })).payout;
      return got?.attempts[0]?.state === PayoutAttemptState.EXPIRED ? true : undefined;
    }, 60_000);
    stack.net.devnet.admin.setFaults({ dropRate: 0 });

    const done = await waitForPayout(stack, id, 90_000);
    expect(done.state).toBe(PayoutState.CONFIRMED);
    const txIds = done.attempts.map((a) => a.txId);
    expect(txIds[0]).toBe(first.txId);
    expect(txIds.length).toBeGreaterThanOrEqual(2);
    // Paid once on the chain, by the last attempt; no earlier attempt is in any block.
    expect(await usdtBalance(stack, to)).toBe(2_500_000n);
    const chain = stack.net.devnet.node.chain;
    const included = new Set(
      Array.from({ length: chain.head.number + 1 }, (_, n) => chain.block(n)?.txIds ?? []).flat(),
    );
    expect(txIds.map((t) => included.has(t))).toEqual(txIds.map((_, i) => i === txIds.length - 1));
    // The new signer signed every replacement, the first of them naming the expired attempt.
    const signed = stack.signer.lines.filter((l) => l.includes('"msg":"signed"'));
    expect(signed).toHaveLength(txIds.length - 1);
    expect(signed[0]).toContain(txIds[1] ?? "none");
  }, 150_000);
});
