import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Asset } from "../../src/gen/tronpay/v1/common_pb.js";
import {
  PayoutBatchState,
  PayoutRoute,
  PayoutService,
  PayoutState,
} from "../../src/gen/tronpay/v1/payout_pb.js";
import { newTestAccount } from "../devnet/helpers.js";
import { fundedWallet } from "../helpers/payouts.js";
import { startProcess, type TestProcess } from "../helpers/process.js";
import { type Stack, startStack } from "../helpers/stack.js";

// A 1,000-item batch paid by TWO core processes against one database, watched as a stream:
// every payout confirmed, each recipient paid exactly once (checked on the devnet's chain).
const ITEMS = 1000;
let stack: Stack;
let secondCore: TestProcess;

beforeAll(async () => {
  stack = await startStack({ coreEnv: { TRONPAY_CORE_WORKERS: "32" } });
  secondCore = startProcess("src/core/app/main.ts", stack.coreEnv);
  await secondCore.waitForLog("core ready");
}, 60_000);

afterAll(async () => {
  await secondCore?.stop();
  await stack?.stop();
});

describe("a batch of 1,000 payouts", () => {
  it("completes once each with two cores working, streaming its progress", async () => {
    const wallet = await fundedWallet(stack, 1_000_000n, 1_000_000n);
    const payouts = stack.client(PayoutService);
    const items = Array.from({ length: ITEMS }, (_, i) => ({
      itemReference: `row-${i}`,
      walletId: wallet.id,
      recipient: { case: "recipientAddress" as const, value: newTestAccount().address },
      amount: {
        asset: i % 2 === 0 ? Asset.USDT : Asset.TRX,
        value: `0.${String(i + 1).padStart(4, "0")}`,
      },
      route: PayoutRoute.V0,
    }));
    const started = Date.now();
    const { batch, items: results } = await payouts.createPayoutBatch({
      idempotencyKey: "batch-1000",
      items,
    });
    expect(batch?.itemCount).toBe(ITEMS);
    expect(results).toHaveLength(ITEMS);

    const progress: number[] = [];
    let final: PayoutBatchState | undefined;
    for await (const update of payouts.watchPayoutBatch(
      { id: batch?.id ?? "" },
      // Generous: this checks completion exactly once, not speed (bench/ measures that); in CI
      // it shares two cores with the 1,000-line CSV test.
      { timeoutMs: 480_000 },
    )) {
      const confirmed =
        update.progress?.stateCounts.find((c) => c.state === PayoutState.CONFIRMED)?.count ?? 0;
      progress.push(confirmed);
      if (update.progress?.done) final = update.progress.state;
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `batch of ${ITEMS}: ${seconds.toFixed(1)} s to complete, ${progress.length} progress updates`,
    );
    expect(final).toBe(PayoutBatchState.COMPLETED);
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.at(-1)).toBe(ITEMS);

    // Every payout once: the chain shows each recipient's exact amount.
    const all = [];
    let pageToken = "";
    do {
      const page = await payouts.listPayouts({
        batchId: batch?.id ?? "",
        page: { pageSize: 500, pageToken },
      });
      all.push(...page.payouts);
      pageToken = page.page?.nextPageToken ?? "";
    } while (pageToken !== "");
    expect(all).toHaveLength(ITEMS);
    expect(all.every((p) => p.state === PayoutState.CONFIRMED)).toBe(true);
    // On a slow machine a transaction can expire before inclusion and be replaced (a second
    // attempt, signed only after the first can no longer be included); exactly-once is what the
    // balances below prove.
    const replaced = all.filter((p) => p.attempts.length > 1).length;
    console.log(`batch of ${ITEMS}: ${replaced} payouts needed a replacement transaction`);
    expect(all.every((p) => p.attempts.length >= 1)).toBe(true);
    const tronWeb = stack.net.tronWeb();
    const usdt = await tronWeb.contract().at(stack.net.devnet.usdtAddress);
    for (const [i, item] of items.entries()) {
      const expected = BigInt(i + 1) * 100n;
      const address = item.recipient.value;
      const paid =
        item.amount.asset === Asset.USDT
          ? BigInt(String(await usdt.balanceOf(address).call()))
          : BigInt(await tronWeb.trx.getBalance(address));
      expect(paid, `row ${i}`).toBe(expected);
    }
  }, 600_000);
});
