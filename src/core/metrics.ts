import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { type DatabasePool, sql } from "slonik";
import { z } from "zod";

/** Core's Prometheus series, on their own registry (no global state between tests). */
export interface CoreMetrics {
  registry: Registry;
  rpcs: Counter<"method" | "code">;
  rpcSeconds: Histogram<"method">;
  rateLimited: Counter<"kind">;
}

/** Creates the registry; with a pool, payouts by state are counted at scrape time. */
export function createMetrics(
  deps: { pool?: DatabasePool; node?: () => { nodeUrl: string; reachable: boolean } } = {},
): CoreMetrics {
  const registry = new Registry();
  const rpcs = new Counter({
    name: "tronpay_rpc_total",
    help: "RPCs answered, by method and Connect code.",
    labelNames: ["method", "code"] as const,
    registers: [registry],
  });
  const rpcSeconds = new Histogram({
    name: "tronpay_rpc_duration_seconds",
    help: "RPC latency by method.",
    labelNames: ["method"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: "tronpay_rate_limited_total",
    help: "Calls refused by rate limits (read, write, auth failures).",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const node = deps.node;
  if (node) {
    new Gauge({
      name: "tronpay_node_reachable",
      help: "1 when the TRON node in use answers and its circuit breaker is closed.",
      labelNames: ["node"] as const,
      registers: [registry],
      collect() {
        const status = node();
        this.reset();
        this.set({ node: status.nodeUrl }, status.reachable ? 1 : 0);
      },
    });
  }
  const pool = deps.pool;
  if (pool) {
    new Gauge({
      name: "tronpay_payouts",
      help: "Payouts by state (counted at scrape time).",
      labelNames: ["state"] as const,
      registers: [registry],
      async collect() {
        // One grouped count over an indexed column: cheap enough for a scrape.
        const rows = await pool.any(sql.type(z.object({ state: z.string(), n: z.bigint() }))`
          SELECT o.state, count(*) AS n FROM operations o JOIN payouts p ON p.id = o.id GROUP BY o.state`);
        this.reset();
        for (const r of rows) this.set({ state: r.state }, Number(r.n));
      },
    });
  }
  return { registry, rpcs, rpcSeconds, rateLimited };
}
