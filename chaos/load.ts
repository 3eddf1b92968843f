import { Code, ConnectError } from "@connectrpc/connect";
import { Asset } from "../src/gen/tronpay/v1/common_pb.js";
import { PayoutRoute, PayoutService } from "../src/gen/tronpay/v1/payout_pb.js";
import { formatAmount } from "../src/shared/money.js";
import type { Intent, Job, Via } from "./plan.js";
import type { ChaosStack } from "./stack.js";

/** What the submitters learned: accepted payouts by id, refusals, give-ups. */
export interface LoadResult {
  accepted: Map<string, Intent>;
  /** Payouts the harness asked to cancel and core cancelled. */
  cancelled: Set<string>;
  /** Cancels refused because the payout was already signed (so it may be paid). */
  cancelTooLate: number;
  refused: Intent[];
  /** Requests that were refused although they should have been accepted (a violation). */
  wronglyRefused: { intent: Intent; error: string }[];
  /** Requests never answered within the retry deadline (a violation). */
  gaveUp: { key: string; error: string }[];
  retries: number;
}

const RETRYABLE = new Set([
  Code.Unavailable,
  Code.Unknown,
  Code.Internal,
  Code.DeadlineExceeded,
  Code.Canceled,
  Code.Aborted,
  Code.ResourceExhausted,
]);

/** Every call has a deadline: a call to a process killed mid-request must not hang. */
const CALL = { timeoutMs: 20_000 };

/** A refusal that retrying will not change. */
class Refused extends Error {}
/** No answer before the retry deadline (already recorded in gaveUp). */
class GaveUp extends Refused {}

/** Runs the jobs with `concurrency` submitters; each retries with its key until answered. */
export async function runLoad(
  stack: ChaosStack,
  jobs: Job[],
  concurrency: number,
  walletId: string,
  retryDeadlineMs: number,
): Promise<LoadResult> {
  const r: LoadResult = {
    accepted: new Map(),
    cancelled: new Set(),
    cancelTooLate: 0,
    refused: [],
    wronglyRefused: [],
    gaveUp: [],
    retries: 0,
  };
  const queue = [...jobs];
  const submitter = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      await runJob(stack, job, walletId, r, retryDeadlineMs);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, submitter));
  return r;
}

async function runJob(stack: ChaosStack, job: Job, walletId: string, r: LoadResult, ms: number) {
  const retry = <T>(key: string, f: () => Promise<T>) => withRetry(key, f, r, ms);
  try {
    if (job.type === "batch") {
      const items = job.intents.map((i) => ({
        itemReference: i.key,
        walletId,
        ...payoutFields(i),
      }));
      const ids = await retry(job.key, async () => {
        const res = await payouts(stack, pickCore(job.key)).createPayoutBatch(
          {
            idempotencyKey: job.key,
            items,
          },
          CALL,
        );
        return res.items.map((it) => it.payoutId);
      });
      for (const [i, id] of ids.entries()) r.accepted.set(id, job.intents[i] as Intent);
      return;
    }
    if (job.type === "refused") {
      await retry(job.intent.key, () => createVia(stack, job.via, job.intent, walletId));
      r.wronglyRefused.push({ intent: job.intent, error: "accepted over the per-payout limit" });
      return;
    }
    const via: Via = job.type === "single" ? job.via : "core-a";
    const id = await retry(job.intent.key, () => createVia(stack, via, job.intent, walletId));
    r.accepted.set(id, job.intent);
    if (job.type === "cancel") await cancel(stack, id, job.intent.key, r, ms);
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    if (err instanceof GaveUp) return;
    if (job.type === "refused") r.refused.push(job.intent);
    else if (job.type === "batch")
      r.wronglyRefused.push(...job.intents.map((intent) => ({ intent, error: err.message })));
    else r.wronglyRefused.push({ intent: job.intent, error: err.message });
  }
}

async function cancel(stack: ChaosStack, id: string, key: string, r: LoadResult, ms: number) {
  try {
    await withRetry(
      `${key}-cancel`,
      () =>
        payouts(stack, pickCore(key)).cancelPayout(
          {
            idempotencyKey: `${key}-cancel`,
            id,
            reason: "chaos",
          },
          CALL,
        ),
      r,
      ms,
    );
    r.cancelled.add(id);
  } catch (err) {
    if (err instanceof GaveUp) return;
    if (err instanceof Refused) r.cancelTooLate++;
    else throw err;
  }
}

function payoutFields(i: Intent) {
  return {
    recipient: { case: "recipientAddress" as const, value: i.recipient },
    amount: { asset: i.asset === "USDT" ? Asset.USDT : Asset.TRX, value: formatAmount(i.amount) },
    route: PayoutRoute.V0,
  };
}

function payouts(stack: ChaosStack, via: "core-a" | "core-b") {
  return stack.client(PayoutService, stack.coreUrls[via === "core-a" ? 0 : 1] ?? "");
}

function pickCore(key: string): "core-a" | "core-b" {
  return key.length % 2 === 0 ? "core-a" : "core-b";
}

/** CreatePayout through a core (Connect) or the edge (REST); resolves with the payout id. */
async function createVia(
  stack: ChaosStack,
  via: Via,
  i: Intent,
  walletId: string,
): Promise<string> {
  if (via !== "edge") {
    const { payout } = await payouts(stack, via).createPayout(
      {
        idempotencyKey: i.key,
        walletId,
        ...payoutFields(i),
      },
      CALL,
    );
    if (!payout) throw new Error("CreatePayout answered without a payout");
    return payout.id;
  }
  const res = await fetch(`${stack.edgeUrl}/v1/payouts`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${stack.adminKey}`,
      "content-type": "application/json",
      "idempotency-key": i.key,
    },
    body: JSON.stringify({
      walletId,
      recipientAddress: i.recipient,
      amount: {
        asset: i.asset === "USDT" ? "ASSET_USDT" : "ASSET_TRX",
        value: formatAmount(i.amount),
      },
      route: "PAYOUT_ROUTE_V0",
    }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  // 499 (canceled) and 408 come from a core killed under the edge: the answer was lost, retry.
  if (res.status >= 500 || res.status === 429 || res.status === 499 || res.status === 408)
    throw new ConnectError(`edge ${res.status}: ${text.slice(0, 200)}`, Code.Unavailable);
  // The JSON error carries the Connect code: retry what the Connect path retries (a core killed
  // under a request reaches the client as 503 edge.core_unavailable, handled above).
  const code = res.status === 200 ? undefined : jsonErrorCode(text);
  if (code !== undefined && RETRYABLE.has(code))
    throw new ConnectError(`edge ${res.status}: ${text.slice(0, 200)}`, code);
  if (res.status !== 200) throw new Refused(`edge ${res.status}: ${text.slice(0, 200)}`);
  return String((JSON.parse(text) as { payout?: { id?: string } }).payout?.id ?? "");
}

/** The Connect code of an edge JSON error body, if it has one. */
function jsonErrorCode(text: string): Code | undefined {
  try {
    const code = (JSON.parse(text) as { code?: unknown }).code;
    return typeof code === "number" && code in Code ? (code as Code) : undefined;
  } catch {
    return undefined;
  }
}

/** Calls `f` until it answers, a refusal is final, or the deadline passes. */
async function withRetry<T>(
  key: string,
  f: () => Promise<T>,
  r: LoadResult,
  ms: number,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await f();
    } catch (err) {
      if (err instanceof Refused) throw err;
      const ce = ConnectError.from(err);
      if (!RETRYABLE.has(ce.code)) throw new Refused(`${Code[ce.code]}: ${ce.rawMessage}`);
      if (Date.now() > deadline) {
        r.gaveUp.push({ key, error: `${Code[ce.code]}: ${ce.rawMessage}` });
        throw new GaveUp(`gave up: ${ce.rawMessage}`);
      }
      r.retries++;
      await new Promise((res) => setTimeout(res, delay));
    }
  }
}
