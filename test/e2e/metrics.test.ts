import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PayoutService, PayoutState } from "../../src/gen/tronpay/v1/payout_pb.js";
import { WebhookEventType, WebhookService } from "../../src/gen/tronpay/v1/webhook_pb.js";
import { newTestAccount } from "../devnet/helpers.js";
import { fundedWallet, usdtPayout, waitForPayout } from "../helpers/payouts.js";
import { type Stack, startStack } from "../helpers/stack.js";

/** Core started for real, its node URL carrying credentials that must never reach a label. */
let stack: Stack;
let adminUrl: string;
let nodeLabel: string;
let password: string;
let wallet: { id: string; address: string };
let text: string;
let receiver: Server;
let delivered = 0;
let endpointId: string;

beforeAll(async () => {
  // A webhook receiver that takes every delivery.
  receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      delivered++;
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  stack = await startStack({
    coreEnv: {
      TRONPAY_WEBHOOK_SECRET_KEY: randomBytes(32).toString("base64"),
      TRONPAY_WEBHOOK_ALLOW_LOOPBACK: "true",
    },
  });
  const node = new URL(stack.net.devnet.url);
  nodeLabel = `${node.hostname}:${node.port}`;
  password = randomBytes(12).toString("hex");
  node.username = "metrics";
  node.password = password;
  stack.coreEnv.TRON_NODE_URL = node.toString();
  stack.coreEnv.TRONPAY_APPROVAL_THRESHOLD = "5";
  await stack.restartCore();
  adminUrl = String((await stack.core.waitForLog("core ready")).adminUrl);
  wallet = await fundedWallet(stack);
  const { endpoint } = await stack.client(WebhookService).createWebhookEndpoint({
    idempotencyKey: "m-ep",
    url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
    eventTypes: [WebhookEventType.PAYOUT_CREATED],
  });
  endpointId = endpoint?.id ?? "";
  // One payout to CONFIRMED, then a second one (over the threshold) waiting for approval.
  const payouts = stack.client(PayoutService);
  const { payout } = await payouts.createPayout(
    usdtPayout("m-1", wallet.id, newTestAccount().address, "3.5"),
  );
  const done = await waitForPayout(stack, payout?.id ?? "", 90_000);
  expect(PayoutState[done.state]).toBe("CONFIRMED");
  await payouts.createPayout(usdtPayout("m-2", wallet.id, newTestAccount().address, "10"));
  // Scrape once both payout.created events have been delivered and counted.
  const ok = { endpoint: endpointId, outcome: "ok" };
  for (let i = 0; i < 60; i++) {
    text = await (await fetch(`${adminUrl}/metrics`)).text();
    if (delivered >= 2 && sample("tronpay_webhook_deliveries_total", ok) === 2) break;
    await new Promise((r) => setTimeout(r, 500));
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  receiver?.closeAllConnections();
  receiver?.close();
});

/** The value of the one sample `name{labels}`; undefined when absent. */
function sample(name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    const m = line.match(/^([a-z_]+)(?:\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? "").split(",").filter(Boolean);
    if (want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return undefined;
}

describe("core's /metrics after a payout", () => {
  it("times the payout from acceptance to CONFIRMED", () => {
    expect(sample("tronpay_payout_confirmation_seconds_count", { asset: "USDT" })).toBe(1);
    const sum = sample("tronpay_payout_confirmation_seconds_sum", { asset: "USDT" }) ?? 0;
    // Fast devnet blocks: well under the minute of a real chain, but not instant.
    expect(sum).toBeGreaterThan(0.05);
    expect(sum).toBeLessThan(90);
  });

  it("times signer calls by method and outcome", () => {
    const count = { method: "SignTransaction", outcome: "ok" };
    expect(sample("tronpay_signer_call_duration_seconds_count", count)).toBeGreaterThanOrEqual(1);
    expect(sample("tronpay_signer_call_duration_seconds_sum", count)).toBeGreaterThan(0);
  });

  it("times node calls per node as host:port, never with the URL's credentials", () => {
    const ok = { node: nodeLabel, outcome: "ok" };
    expect(sample("tronpay_chain_node_request_duration_seconds_count", ok)).toBeGreaterThan(5);
    expect(sample("tronpay_chain_node_up", { node: nodeLabel })).toBe(1);
    expect(sample("tronpay_chain_breaker_open", { node: nodeLabel })).toBe(0);
    expect(text).toContain("# TYPE tronpay_chain_node_errors_total counter");
    expect(text).not.toContain(password);
    expect(text).not.toContain("metrics@");
  });

  it("shows the payout awaiting approval in the queue depth, with its age", () => {
    expect(sample("tronpay_queue_depth", { kind: "PAYOUT", state: "AWAITING_APPROVAL" })).toBe(1);
    expect(sample("tronpay_queue_depth", { kind: "PAYOUT", state: "QUEUED" })).toBeUndefined();
    const age = sample("tronpay_payout_oldest_age_seconds", { state: "AWAITING_APPROVAL" });
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(120);
    expect(sample("tronpay_payout_oldest_age_seconds", { state: "BROADCAST" })).toBe(0);
    expect(sample("tronpay_payouts", { state: "CONFIRMED" })).toBe(1);
  });

  it("shows the database pool in use", () => {
    const acquired = sample("tronpay_db_pool_connections", { state: "acquired" }) ?? -1;
    const idle = sample("tronpay_db_pool_connections", { state: "idle" }) ?? -1;
    expect(acquired).toBeGreaterThanOrEqual(0);
    expect(idle).toBeGreaterThanOrEqual(0);
    // The pool has opened connections and never more than its default size of 10.
    expect(acquired + idle).toBeGreaterThanOrEqual(1);
    expect(acquired + idle).toBeLessThanOrEqual(10);
    expect(sample("tronpay_db_pool_waiting_clients")).toBeGreaterThanOrEqual(0);
  });

  it("shows the paying wallet's TRX and energy, and a verified audit chain", () => {
    const labels = { wallet: wallet.id, role: "payout" };
    const trx = sample("tronpay_wallet_trx_balance_sun", labels) ?? 0;
    // Funded with 100,000 TRX; one USDT transfer burned some of it for energy and bandwidth.
    expect(trx).toBeGreaterThan(99_000 * 1e6);
    expect(trx).toBeLessThanOrEqual(100_000 * 1e6);
    expect(sample("tronpay_wallet_energy_available", labels)).toBeGreaterThanOrEqual(0);
    expect(sample("tronpay_audit_chain_ok")).toBe(1);
    const at = sample("tronpay_audit_chain_verified_timestamp_seconds") ?? 0;
    expect(Date.now() / 1000 - at).toBeGreaterThanOrEqual(0);
    expect(Date.now() / 1000 - at).toBeLessThan(600);
  });

  it("counts webhook deliveries per endpoint, which is not failing", () => {
    expect(delivered).toBe(2);
    expect(
      sample("tronpay_webhook_deliveries_total", { endpoint: endpointId, outcome: "ok" }),
    ).toBe(2);
    expect(sample("tronpay_webhook_endpoint_failing", { endpoint: endpointId })).toBe(0);
  });

  it("exports every core series the alert rules use", () => {
    const rules = readFileSync("deploy/alerts.rules.yml", "utf8");
    const declared = [...rules.matchAll(/^#\s+(tronpay_[a-z_]+)\S*\s+(\w+)(.*)$/gm)]
      .filter((m) => !m[3]?.includes("(edge)"))
      .map((m) => [m[1], m[2]]);
    expect(declared.length).toBeGreaterThan(5);
    for (const [name, type] of declared) expect(text).toContain(`# TYPE ${name} ${type}`);
  });
});
