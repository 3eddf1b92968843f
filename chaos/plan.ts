import { toBase58 } from "../src/shared/address.js";
import type { Rng } from "./rng.js";

/** One payout the harness asks for: a fresh recipient, so the chain shows it alone. */
export interface Intent {
  key: string;
  recipient: string;
  asset: "TRX" | "USDT";
  /** Base units (sun or USDT's 6 decimals). */
  amount: bigint;
}

/** How a request reaches core. */
export type Via = "core-a" | "core-b" | "edge";

/** A unit of work for the submitters. */
export type Job =
  | { type: "single"; via: Via; intent: Intent }
  /** Created, then cancelled at once (it may already be signed: then it is paid). */
  | { type: "cancel"; intent: Intent }
  /** Over the per-payout limit: must be refused and never paid. */
  | { type: "refused"; via: Via; intent: Intent }
  | { type: "batch"; key: string; intents: Intent[] };

/** Above the V0 per-payout limit the harness configures (1000 whole units). */
export const REFUSED_AMOUNT = 2_000_000_000n;

/**
 * N accepted-to-be payouts: about 40% in batches of 5–40, 5% cancelled right after creation,
 * the rest single with idempotency keys, split over both cores and the edge; plus about 2%
 * refused requests on top.
 */
export function makePlan(rng: Rng, n: number, withEdge: boolean): Job[] {
  const vias: Via[] = withEdge ? ["core-a", "core-b", "edge"] : ["core-a", "core-b"];
  const jobs: Job[] = [];
  let made = 0;
  let seq = 0;
  const intent = (amount?: bigint): Intent => ({
    key: `chaos-${rng.seed}-${seq++}`,
    recipient: toBase58(rng.address()),
    asset: rng.chance(0.5) ? "USDT" : "TRX",
    amount: amount ?? BigInt(rng.int(1, 50_000)),
  });
  while (made < n) {
    const roll = rng.next();
    if (roll < 0.03 && n - made >= 5) {
      const size = Math.min(rng.int(5, 40), n - made);
      jobs.push({
        type: "batch",
        key: `chaos-${rng.seed}-b${seq++}`,
        intents: Array.from({ length: size }, () => intent()),
      });
      made += size;
    } else if (roll < 0.08) {
      jobs.push({ type: "cancel", intent: intent() });
      made++;
    } else {
      jobs.push({ type: "single", via: rng.pick(vias), intent: intent() });
      made++;
    }
    if (rng.chance(0.02))
      jobs.push({ type: "refused", via: rng.pick(vias), intent: intent(REFUSED_AMOUNT) });
  }
  return jobs;
}
