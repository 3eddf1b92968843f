import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "slonik";
import { z } from "zod";
import { type ChaosStack, fundedWallet } from "../chaos/stack.js";
import { Asset } from "../src/gen/tronpay/v1/common_pb.js";
import { PayoutRoute, PayoutService } from "../src/gen/tronpay/v1/payout_pb.js";
import { toBase58 } from "../src/shared/address.js";
import { TRX } from "../test/devnet/helpers.js";

/** One batch through the whole pipeline: accepted, signed, broadcast, solidified. */
export interface PipelineRun {
  items: number;
  seconds: number;
  payoutsPerSecond: number;
}

const COUNT = z.object({ n: z.number() });

/**
 * CreatePayoutBatch of `items` (half USDT, half TRX, fresh recipients) on the running engine,
 * timed until every payout is CONFIRMED; `sample` runs every second meanwhile (RSS).
 */
export async function pipelineRun(
  stack: ChaosStack,
  items: number,
  tag: string,
  sample: () => void,
): Promise<PipelineRun> {
  const wallet = await fundedWallet(stack, `pipeline-${tag}`, {
    trxSun: 10_000_000n * TRX,
    usdt: 10n ** 15n,
  });
  const payouts = stack.client(PayoutService, stack.coreUrls[0] ?? "");
  const list = Array.from({ length: items }, (_, i) => ({
    itemReference: `${tag}-${i}`,
    walletId: wallet.id,
    recipient: { case: "recipientAddress" as const, value: toBase58(randomAddress()) },
    amount: { asset: i % 2 ? Asset.TRX : Asset.USDT, value: "0.000001" },
    route: PayoutRoute.V0,
  }));
  const t0 = performance.now();
  const id = await acceptBatch(() =>
    payouts.createPayoutBatch(
      { idempotencyKey: `pipeline-${tag}`, items: list },
      { timeoutMs: 120_000 },
    ),
  );
  for (;;) {
    const { n } = await stack.db.pool.one(sql.type(COUNT)`
      SELECT count(*)::int AS n FROM payouts p JOIN operations o ON o.id = p.id
      WHERE p.batch_id = ${id} AND o.state IN ('CONFIRMED', 'FAILED', 'CANCELLED')`);
    if (n >= items) break;
    sample();
    await new Promise((r) => setTimeout(r, 1_000));
  }
  const seconds = (performance.now() - t0) / 1000;
  return { items, seconds, payoutsPerSecond: items / seconds };
}

/** Retries with the same idempotency key until answered (a slow machine can time out). */
async function acceptBatch(call: () => Promise<{ batch?: { id: string } }>): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await call()).batch?.id ?? "";
    } catch (err) {
      const code = ConnectError.from(err).code;
      if (attempt >= 5 || (code !== Code.DeadlineExceeded && code !== Code.Unavailable)) throw err;
    }
  }
}

function randomAddress(): Uint8Array {
  const a = crypto.getRandomValues(new Uint8Array(21));
  a[0] = 0x41;
  return a;
}
