import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DatabasePool } from "slonik";
import type { NodeObserver } from "../chain/node-client.js";
import type { Balances } from "../chain/types.js";
import { registerScrapeGauges } from "./metrics-scrape.js";

/** Core's Prometheus series, on their own registry (no global state between tests). */
export interface CoreMetrics {
  registry: Registry;
  rpcs: Counter<"method" | "code">;
  rpcSeconds: Histogram<"method">;
  rateLimited: Counter<"kind">;
  /** Accepted → CONFIRMED, per payout, observed by the engine. */
  payoutConfirmSeconds: Histogram<"asset">;
  signerSeconds: Histogram<"method" | "outcome">;
  nodeSeconds: Histogram<"node" | "outcome">;
  nodeErrors: Counter<"node" | "outcome">;
  nodeUp: Gauge<"node">;
  breakerOpen: Gauge<"node">;
  webhookDeliveries: Counter<"endpoint" | "outcome">;
  /** Operations the signer refused for its policy at signing (they end FAILED), by rule. */
  signerPolicyRefusals: Counter<"rule">;
  auditChainOk: Gauge;
  auditVerifiedAt: Gauge;
}

/** What the scrape-time series read; each is optional (tests make bare registries). */
export interface MetricsSources {
  pool?: DatabasePool;
  /** The node in use and whether it answers. */
  node?: () => { nodeUrl: string; reachable: boolean };
  /** Wallet balances at the head, for the wallet series. */
  balances?: (address: string) => Promise<Balances>;
}

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Creates the registry; with a pool, database-backed series are read (cached) at scrape time. */
export function createMetrics(deps: MetricsSources = {}): CoreMetrics {
  const registry = new Registry();
  const registers = [registry];
  const metrics: CoreMetrics = {
    registry,
    rpcs: new Counter({
      name: "tronpay_rpc_total",
      help: "RPCs answered, by method and Connect code.",
      labelNames: ["method", "code"] as const,
      registers,
    }),
    rpcSeconds: new Histogram({
      name: "tronpay_rpc_duration_seconds",
      help: "RPC latency by method.",
      labelNames: ["method"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    rateLimited: new Counter({
      name: "tronpay_rate_limited_total",
      help: "Calls refused by rate limits (read, write, auth failures).",
      labelNames: ["kind"] as const,
      registers,
    }),
    payoutConfirmSeconds: new Histogram({
      name: "tronpay_payout_confirmation_seconds",
      help: "Time from a payout's acceptance to CONFIRMED (solidified, successful receipt).",
      labelNames: ["asset"] as const,
      // A solidified block is about a minute behind the head on TRON.
      buckets: [1, 2.5, 5, 10, 30, 60, 90, 120, 180, 300, 600, 1800, 3600],
      registers,
    }),
    signerSeconds: new Histogram({
      name: "tronpay_signer_call_duration_seconds",
      help: "Calls to the signer by method and outcome (ok or the Connect code).",
      labelNames: ["method", "outcome"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    nodeSeconds: new Histogram({
      name: "tronpay_chain_node_request_duration_seconds",
      help: "HTTP calls to each TRON node (host:port) by outcome.",
      labelNames: ["node", "outcome"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    nodeErrors: new Counter({
      name: "tronpay_chain_node_errors_total",
      help: "Failed calls to each TRON node: timeout, transport, bad_response, circuit_open.",
      labelNames: ["node", "outcome"] as const,
      registers,
    }),
    nodeUp: new Gauge({
      name: "tronpay_chain_node_up",
      help: "1 when the last call to the node got an answer, 0 when it did not.",
      labelNames: ["node"] as const,
      registers,
    }),
    breakerOpen: new Gauge({
      name: "tronpay_chain_breaker_open",
      help: "1 while the node's circuit breaker is open (calls refused unsent), else 0.",
      labelNames: ["node"] as const,
      registers,
    }),
    webhookDeliveries: new Counter({
      name: "tronpay_webhook_deliveries_total",
      help: "Webhook delivery attempts by endpoint and outcome (ok: a 2xx answer; error).",
      labelNames: ["endpoint", "outcome"] as const,
      registers,
    }),
    signerPolicyRefusals: new Counter({
      name: "tronpay_signer_policy_refusals_total",
      help: "Operations the signer refused for its policy at signing, by rule; each ends FAILED.",
      labelNames: ["rule"] as const,
      registers,
    }),
    auditChainOk: new Gauge({
      name: "tronpay_audit_chain_ok",
      help: "1 when the last verification of the audit hash chain passed, 0 when it failed.",
      registers,
    }),
    auditVerifiedAt: new Gauge({
      name: "tronpay_audit_chain_verified_timestamp_seconds",
      help: "When this process last verified the audit hash chain (Unix time).",
      registers,
    }),
  };
  const node = deps.node;
  if (node) {
    new Gauge({
      name: "tronpay_node_reachable",
      help: "1 when the TRON node in use answers and its circuit breaker is closed.",
      labelNames: ["node"] as const,
      registers,
      collect() {
        const status = node();
        this.reset();
        this.set({ node: status.nodeUrl }, status.reachable ? 1 : 0);
      },
    });
  }
  const pool = deps.pool;
  if (pool) {
    registerScrapeGauges(registry, { pool, balances: deps.balances });
    registerPoolGauges(registry, pool);
  }
  return metrics;
}

/** slonik's pool counters, read on each scrape (in memory, no query). */
function registerPoolGauges(registry: Registry, pool: DatabasePool): void {
  new Gauge({
    name: "tronpay_db_pool_connections",
    help: "PostgreSQL pool connections: acquired (in use), idle, pending (being opened).",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      const s = pool.state();
      this.set({ state: "acquired" }, s.acquiredConnections);
      this.set({ state: "idle" }, s.idleConnections);
      this.set({ state: "pending" }, s.pendingConnections);
    },
  });
  new Gauge({
    name: "tronpay_db_pool_waiting_clients",
    help: "Queries waiting for a free PostgreSQL pool connection.",
    registers: [registry],
    collect() {
      this.set(pool.state().waitingClients);
    },
  });
}

/** Feeds node calls and breaker changes from the chain adapter into the metrics. */
export function nodeObserver(m: CoreMetrics): NodeObserver {
  return {
    call(node, outcome, seconds) {
      if (seconds !== undefined) m.nodeSeconds.observe({ node, outcome }, seconds);
      if (outcome !== "ok") m.nodeErrors.inc({ node, outcome });
      // A refusal (bad_response) is still an answer; an open breaker says nothing new.
      if (outcome !== "circuit_open")
        m.nodeUp.set({ node }, outcome === "ok" || outcome === "bad_response" ? 1 : 0);
    },
    breaker(node, open) {
      m.breakerOpen.set({ node }, open ? 1 : 0);
    },
  };
}

/** Client interceptor for the signer: times every call by method and outcome. */
export function signerMetricsInterceptor(m: CoreMetrics): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    let outcome = "ok";
    try {
      return await next(req);
    } catch (err) {
      const code = ConnectError.from(err).code;
      outcome = Code[code] ?? String(code);
      throw err;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      m.signerSeconds.observe({ method: req.method.name, outcome }, seconds);
    }
  };
}
