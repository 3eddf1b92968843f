import { Gauge, type Registry } from "prom-client";
import type { DatabasePool } from "slonik";
import type { Balances } from "../chain/types.js";
import { KINDS } from "../operations/kinds.js";
import { walletsOfPurposes } from "../wallets/repo.js";
import { endpointHealth, operationQueue, payoutStateCounts } from "./metrics-repo.js";

/**
 * Series read at scrape time from PostgreSQL and the TRON node. Every source is cached for a
 * while, so that any number of scrapers costs at most one query (or one round of node calls)
 * per period; a source that fails leaves its series out of that scrape rather than failing
 * the whole scrape or showing stale numbers.
 */

/** What the scrape-time series read. */
export interface ScrapeSources {
  pool: DatabasePool;
  /** Balances of a wallet at the head (the chain adapter); without it, no wallet series. */
  balances?: (address: string) => Promise<Balances>;
  /** How long database counts are reused (ms). */
  dbCacheMs?: number;
  /** How long wallet balances are reused (ms); each refresh is three node calls per wallet. */
  walletCacheMs?: number;
}

/** States in which an operation is still waiting for something. */
const LIVE_STATES = ["QUEUED", "AWAITING_APPROVAL", "HELD", "SIGNED", "BROADCAST"] as const;
/** Wallets that pay (payouts or fees); staking wallets keep their TRX frozen on purpose. */
const PAYING_PURPOSES = ["HOT", "PAYOUT", "FEE"] as const;
const MAX_WALLETS = 50;

/** Returns a loader that reuses its last result for `ttlMs` and shares one call in flight. */
export function cached<T>(ttlMs: number, load: () => Promise<T>, clock = Date.now) {
  let value: { at: number; data: T } | undefined;
  let pending: Promise<T> | undefined;
  return (): Promise<T> => {
    if (value && clock() - value.at < ttlMs) return Promise.resolve(value.data);
    pending ??= load()
      .then((data) => {
        value = { at: clock(), data };
        return data;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

/** Registers the scrape-time gauges on `registry`. */
export function registerScrapeGauges(registry: Registry, src: ScrapeSources): void {
  const { pool } = src;
  const dbMs = src.dbCacheMs ?? 10_000;
  const queue = cached(dbMs, () => operationQueue(pool, LIVE_STATES));
  const payouts = cached(dbMs, () => payoutStateCounts(pool));
  const endpoints = cached(dbMs, () => endpointHealth(pool));

  gauge(
    registry,
    "tronpay_payouts",
    "Payouts by state (all time).",
    ["state"],
    payouts,
    (g, rows) => {
      for (const r of rows) g.set({ state: r.state }, r.n);
    },
  );
  gauge(
    registry,
    "tronpay_queue_depth",
    "Operations waiting (QUEUED, AWAITING_APPROVAL, HELD, SIGNED, BROADCAST), by kind and state.",
    ["kind", "state"],
    queue,
    (g, rows) => {
      for (const r of rows) g.set({ kind: r.kind, state: r.state }, r.n);
    },
  );
  gauge(
    registry,
    "tronpay_payout_oldest_age_seconds",
    "Time the longest-waiting payout has been in its current non-final state.",
    ["state"],
    queue,
    (g, rows) => {
      const oldest = new Map<string, number>();
      for (const r of rows.filter((r) => KINDS[r.kind].pays))
        oldest.set(r.state, Math.max(oldest.get(r.state) ?? 0, r.oldest));
      for (const state of LIVE_STATES) g.set({ state }, oldest.get(state) ?? 0);
    },
  );
  gauge(
    registry,
    "tronpay_webhook_endpoint_failing",
    "1 while a webhook endpoint is FAILING (its retry window ran out), else 0.",
    ["endpoint"],
    endpoints,
    (g, rows) => {
      for (const r of rows) g.set({ endpoint: r.id }, r.failing ? 1 : 0);
    },
  );
  if (src.balances) registerWalletGauges(registry, pool, src.balances, src.walletCacheMs);
}

function registerWalletGauges(
  registry: Registry,
  pool: DatabasePool,
  balances: (address: string) => Promise<Balances>,
  cacheMs = 60_000,
): void {
  const wallets = cached(cacheMs, async () => {
    const rows = await walletsOfPurposes(pool, PAYING_PURPOSES, MAX_WALLETS);
    // One wallet at a time: a scrape must not burst the node.
    const out: { labels: { wallet: string; role: string }; b: Balances }[] = [];
    for (const w of rows)
      out.push({
        labels: { wallet: w.id, role: w.purpose.toLowerCase() },
        b: await balances(w.address),
      });
    return out;
  });
  gauge(
    registry,
    "tronpay_wallet_trx_balance_sun",
    "Liquid TRX of each paying wallet (sun), read from the node.",
    ["wallet", "role"],
    wallets,
    (g, rows) => {
      for (const r of rows) g.set(r.labels, Number(r.b.trx));
    },
  );
  gauge(
    registry,
    "tronpay_wallet_energy_available",
    "Energy each paying wallet has left (staked limit minus used), read from the node.",
    ["wallet", "role"],
    wallets,
    (g, rows) => {
      for (const r of rows) g.set(r.labels, Number(r.b.energy.limit - r.b.energy.used));
    },
  );
}

/** How long a scrape waits for a source; a slower load finishes for the next scrape. */
const SCRAPE_WAIT_MS = 3_000;

/**
 * A gauge filled on each scrape from a cached source; when the source fails, or is slower than
 * SCRAPE_WAIT_MS, it shows nothing this time.
 */
function gauge<L extends string, T>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  load: () => Promise<T>,
  fill: (g: Gauge<L>, data: T) => void,
): void {
  new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => {
        timer = setTimeout(resolve, SCRAPE_WAIT_MS, undefined);
      });
      try {
        const data = await Promise.race([load(), late]);
        if (data !== undefined) fill(this, data);
      } catch {
        // Readiness reports the failing dependency; the other series still scrape.
      } finally {
        clearTimeout(timer);
      }
    },
  });
}
