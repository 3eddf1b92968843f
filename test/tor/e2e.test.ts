// The whole path over a private Tor network on 127.0.0.1 (never the public one): a REST
// client reaches the edge only as an onion service through a Tor client's SOCKS port; core
// (TOR_MODE=required) reaches the TRON devnet only through that same Tor client. A USDT
// payout made this way is confirmed, the devnet is only ever connected to by tor processes,
// and with the Tor client gone core's node calls fail without a single direct connection.
// An onion_only API key works through the onion and nowhere else.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../src/gen/tronpay/v1/admin_pb.js";
import { NetworkService } from "../../src/gen/tronpay/v1/network_pb.js";
import { Role } from "../../src/gen/tronpay/v1/options_pb.js";
import { reasonOf } from "../../src/shared/errors.js";
import { createSocksFetch, type FetchLike } from "../../src/shared/tor-socks.js";
import { newTestAccount, TRX } from "../devnet/helpers.js";
import { startProcess, type TestProcess } from "../helpers/process.js";
import { type Stack, startStack } from "../helpers/stack.js";
import { type PrivateTorNetwork, startPrivateTorNetwork, torMissing } from "./private-network.js";
import { ownersOfConnectionsTo } from "./sockets.js";

if (torMissing) console.warn(`skipping the Tor end-to-end test: ${torMissing} (CI installs it)`);

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
type Json = Record<string, any>;

describe.skipIf(torMissing !== undefined)("a payout made entirely over Tor", () => {
  let net: PrivateTorNetwork;
  let stack: Stack;
  let edge: TestProcess;
  let edgeDir = "";
  let onion = "";
  let plainUrl = "";
  let torFetch: FetchLike;
  const forwardSecret = randomBytes(32).toString("base64url");
  /** Every pid seen holding a connection to the devnet, sampled while the payout runs. */
  const devnetPeers = new Set<number>();
  let sampler: NodeJS.Timeout | undefined;

  /** A REST call to the edge's onion through the Tor client's SOCKS port. */
  async function api(
    path: string,
    init: { method?: string; key?: string; body?: Json; apiKey?: string } = {},
  ) {
    const headers: Record<string, string> = {
      authorization: `Bearer ${init.apiKey ?? stack.adminKey}`,
    };
    if (init.key) headers["idempotency-key"] = init.key;
    if (init.body) headers["content-type"] = "application/json";
    const res = await torFetch(`http://${onion}${path}`, {
      method: init.method ?? "GET",
      headers,
      body: init.body ? JSON.stringify(init.body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  const candidatePids = () =>
    [
      ...net.pids(),
      process.pid,
      stack.core.child.pid,
      stack.signer.child.pid,
      edge.child.pid,
    ].filter((p): p is number => p !== undefined);
  const torPids = () => new Set(net.pids());
  const devnetPort = () => Number(new URL(stack.net.devnet.url).port);
  const sample = () => {
    for (const pid of ownersOfConnectionsTo(devnetPort(), candidatePids())) devnetPeers.add(pid);
  };

  beforeAll(async () => {
    net = await startPrivateTorNetwork();
    const torReadyMs = net.timings.readyMs;
    const stackStarted = Date.now();
    stack = await startStack({
      coreEnv: {
        TOR_MODE: "required",
        TOR_SOCKS_HOST: "127.0.0.1",
        TOR_SOCKS_PORT: String(net.client.socksPort),
        TRONPAY_EDGE_FORWARD_SECRET: forwardSecret,
      },
    });
    sampler = setInterval(sample, 50);
    edgeDir = mkdtempSync(join(tmpdir(), "tronpay-edge-"));
    edge = startProcess("src/edge/main.ts", {
      TRONPAY_CORE_URL: stack.coreUrl,
      TRONPAY_EDGE_HOST: "127.0.0.1",
      TRONPAY_EDGE_PORT: "0",
      TRONPAY_EDGE_DATA_DIR: edgeDir,
      TOR_MODE: "required",
      TOR_CONTROL_HOST: "127.0.0.1",
      TOR_CONTROL_PORT: String(net.host.controlPort),
      TOR_COOKIE_FILE: net.host.cookieFile,
      TRONPAY_EDGE_FORWARD_SECRET: forwardSecret,
    });
    plainUrl = String((await edge.waitForLog("edge ready", 30_000)).url);
    onion = String((await edge.waitForLog("onion published", 30_000)).address);
    torFetch = createSocksFetch({ host: "127.0.0.1", port: net.client.socksPort });
    console.log(
      `Tor ready in ${torReadyMs} ms; stack and onion in ${Date.now() - stackStarted} ms`,
    );
  }, 120_000);

  afterAll(async () => {
    clearInterval(sampler);
    await edge?.stop();
    await stack?.stop();
    await net?.stop();
    if (edgeDir) rmSync(edgeDir, { recursive: true, force: true });
  });

  it("creates, funds and confirms a USDT payout through the onion", async () => {
    expect(onion).toMatch(/^[a-z2-7]{56}\.onion$/);
    // The descriptor takes a moment to reach the client: retry the probe only.
    const ready = await until(() => api("/readyz"), 30_000);
    expect(ready).toEqual({
      status: 200,
      body: { status: "ready", tor: { published: true, bootstrap: 100 } },
    });
    const wallet = await api("/v1/wallets", {
      method: "POST",
      key: "tor-wallet-1",
      body: { label: "payouts", purpose: "WALLET_PURPOSE_PAYOUT" },
    });
    expect(wallet.status).toBe(200);
    stack.net.devnet.admin.fund(wallet.body.wallet.address, {
      trx: 1_000n * TRX,
      usdt: 1_000_000_000n,
    });
    stack.net.solidify();
    const created = await api("/v1/payouts", {
      method: "POST",
      key: "tor-payout-1",
      body: {
        walletId: wallet.body.wallet.id,
        recipientAddress: newTestAccount().address,
        amount: { asset: "ASSET_USDT", value: "1.5" },
        route: "PAYOUT_ROUTE_V0",
      },
    });
    expect(created.status).toBe(200);
    const id = encodeURIComponent(created.body.payout.id);
    const confirmed = await until(async () => {
      const got = await api(`/v1/payouts/${id}`);
      if (got.body.payout?.state !== "PAYOUT_STATE_CONFIRMED") throw new Error("not yet");
      return got;
    }, 45_000);
    expect(confirmed.body.payout.amount).toEqual({ asset: "ASSET_USDT", value: "1.5" });
    // The confirmed attempt is really in a solidified block of the devnet's chain.
    const attempt = confirmed.body.payout.attempts.at(-1);
    const chain = stack.net.devnet.node.chain;
    expect(Number(attempt.blockNumber)).toBeLessThanOrEqual(chain.solidHeight);
    expect(chain.block(Number(attempt.blockNumber))?.txIds).toContain(attempt.txId);
  }, 90_000);

  it("accepts an onion_only API key through the onion, and not on the edge's plain listener", async () => {
    const { key } = await stack.client(AdminService).createApiKey({
      idempotencyKey: randomUUID(),
      name: "onion only",
      roles: [Role.AUDITOR],
      onionOnly: true,
    });
    expect((await until(() => api("/v1/payouts", { apiKey: key }), 30_000)).status).toBe(200);
    const plain = await fetch(`${plainUrl}/v1/payouts`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(plain.status).toBe(401);
  }, 60_000);

  it("only tor processes connected to the devnet during the payout, never core", () => {
    sample();
    clearInterval(sampler);
    const tor = torPids();
    expect(devnetPeers.size).toBeGreaterThan(0);
    expect([...devnetPeers].filter((pid) => !tor.has(pid))).toEqual([]);
    expect(devnetPeers).not.toContain(stack.core.child.pid);
  });

  it("fails core's node calls without a direct connection once the Tor client is down", async () => {
    await net.stopNode("client");
    // The exit's kept-alive streams to the devnet close with the client's circuits.
    await new Promise((r) => setTimeout(r, 500));
    const before = stack.net.devnet.admin.connections();
    const answer = await stack
      .client(NetworkService)
      .getStatus({})
      .then(
        (status) => ({ reachable: status.nodeReachable }),
        (err: unknown) => ({ reason: reasonOf(err) }),
      );
    // Either form says the node is out of reach; anything else (a head block) would not.
    if ("reachable" in answer) expect(answer.reachable).toBe(false);
    else expect(answer.reason).toBe("node.unavailable");
    expect(stack.net.devnet.admin.connections()).toEqual(before);
  }, 30_000);
});

/** Retries `attempt` until it resolves, with short pauses, or rethrows after `ms`. */
async function until<T>(attempt: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
