// The Tor side of tronpay on a private Tor network on 127.0.0.1 (never the public one): the
// edge's onion service, reached through Tor's SOCKS port, and core's TRON node traffic,
// which goes through Tor or nowhere. One network for the whole file (~20 s to start).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { x25519 } from "@noble/curves/ed25519.js";
import { base32nopad, base64 } from "@scure/base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChain } from "../../src/core/chain/index.js";
import { openControl } from "../../src/edge/tor/control.js";
import { type OnionService, publishOnion } from "../../src/edge/tor/onion.js";
import { ONION_KEY_FILE } from "../../src/edge/tor/onion-key.js";
import { AppError } from "../../src/shared/errors.js";
import { createLogger } from "../../src/shared/log.js";
import { createSocksFetch, type FetchLike } from "../../src/shared/tor-socks.js";
import { startTestDevnet, type TestNet } from "../devnet/helpers.js";
import { type PrivateTorNetwork, startPrivateTorNetwork, torMissing } from "./private-network.js";
import { ownersOfConnectionsTo } from "./sockets.js";

if (torMissing) console.warn(`skipping the Tor tests: ${torMissing} (CI installs it)`);

const log = createLogger({ name: "tor-test", level: "silent" });

/** GETs `url` through Tor until it answers, with short timeouts while the descriptor spreads. */
async function fetchUntilUp(f: FetchLike, url: string, ms = 30_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const res = await f(url, { signal: AbortSignal.timeout(4_000) });
      return await res.text();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

describe.skipIf(torMissing !== undefined)("tronpay over a private Tor network", () => {
  let net: PrivateTorNetwork;
  let web: Server;
  let webPort = 0;
  let torFetch: FetchLike;
  const publishers: OnionService[] = [];
  const edgeDirs: string[] = [];
  const edgeDir = () => {
    edgeDirs.push(mkdtempSync(join(tmpdir(), "tronpay-edge-")));
    return edgeDirs.at(-1) as string;
  };
  const publish = (dataDir: string, clientAuthV3?: string[]) => {
    const p = publishOnion({
      control: { host: "127.0.0.1", port: net.host.controlPort },
      auth: { kind: "cookie", cookieFile: net.host.cookieFile },
      dataDir,
      target: { host: "127.0.0.1", port: webPort },
      clientAuthV3,
      log,
      retry: { initialMs: 200, maxMs: 1_000 },
      pollMs: 250,
    });
    publishers.push(p);
    return p;
  };

  beforeAll(async () => {
    net = await startPrivateTorNetwork();
    console.log(
      `private Tor network: consensus ${net.timings.consensusMs} ms, ready ${net.timings.readyMs} ms`,
    );
    // Stands in for the edge's REST listener.
    web = createServer((req, res) => res.end(`edge says hello to ${req.url}`));
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
    webPort = (web.address() as { port: number }).port;
    torFetch = createSocksFetch({ host: "127.0.0.1", port: net.client.socksPort });
    dataDir = edgeDir();
  }, 90_000);

  afterAll(async () => {
    await Promise.all(publishers.map((p) => p.stop()));
    web?.close();
    await net?.stop();
    for (const dir of edgeDirs) rmSync(dir, { recursive: true, force: true });
  });

  let dataDir = "";
  let address = "";

  it("publishes the edge as an onion service that answers through Tor's SOCKS port", async () => {
    const started = Date.now();
    const onion = publish(dataDir);
    address = await onion.ready(20_000);
    const published = Date.now() - started;
    expect(address).toMatch(/^[a-z2-7]{56}\.onion$/);
    expect(onion.status().bootstrap).toMatchObject({ progress: 100, done: true });
    expect(statSync(join(dataDir, ONION_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(await fetchUntilUp(torFetch, `http://${address}/payouts`)).toBe(
      "edge says hello to /payouts",
    );
    console.log(
      `onion published in ${published} ms, reachable ${Date.now() - started} ms after start`,
    );
  }, 60_000);

  it("keeps the same address when the edge's publisher restarts", async () => {
    const first = publishers.shift() as OnionService;
    await first.stop();
    const again = publish(dataDir);
    expect(await again.ready(20_000)).toBe(address);
    expect(await fetchUntilUp(torFetch, `http://${address}/again`)).toBe(
      "edge says hello to /again",
    );
  }, 60_000);

  it("publishes the same address again after Tor restarts", async () => {
    const onion = publishers[0] as OnionService;
    await net.stopNode("host");
    await waitUntil(() => !onion.status().published, 5_000);
    expect(onion.status()).toMatchObject({ ready: false, lastError: "tor.unavailable" });
    const restarted = Date.now();
    await net.startNode("host");
    expect(await onion.ready(30_000)).toBe(address);
    expect(await fetchUntilUp(torFetch, `http://${address}/back`, 40_000)).toBe(
      "edge says hello to /back",
    );
    console.log(`after a Tor restart the onion answered again in ${Date.now() - restarted} ms`);
  }, 60_000);

  it("serves an onion with client authorization only to an authorized client", async () => {
    const secret = x25519.utils.randomSecretKey();
    const onion = publish(edgeDir(), [base32nopad.encode(x25519.getPublicKey(secret))]);
    const serviceId = (await onion.ready(20_000)).replace(".onion", "");
    const client = await openControl(
      { host: "127.0.0.1", port: net.client.controlPort },
      { kind: "cookie", cookieFile: net.client.cookieFile },
    );
    try {
      let received = false;
      await client.events(["HS_DESC"], (e) => {
        if (e.startsWith(`HS_DESC RECEIVED ${serviceId} `)) received = true;
      });
      // Until the client holds the descriptor, a failure could just mean "not uploaded yet";
      // after it, a failure means the descriptor cannot be decrypted without our key.
      let answered = false;
      for (let tries = 0; !received && tries < 20; tries++) {
        answered ||= await torFetch(`http://${serviceId}.onion/`, {
          signal: AbortSignal.timeout(3_000),
        }).then(
          () => true,
          () => false,
        );
      }
      expect(received).toBe(true);
      await expect(torFetch(`http://${serviceId}.onion/`)).rejects.toThrow(AppError);
      expect(answered).toBe(false);
      await client.command(`ONION_CLIENT_AUTH_ADD ${serviceId} x25519:${base64.encode(secret)}`);
      expect(await fetchUntilUp(torFetch, `http://${serviceId}.onion/private`)).toBe(
        "edge says hello to /private",
      );
    } finally {
      client.close();
    }
  }, 60_000);

  describe("core's chain adapter in TOR_MODE=required", () => {
    let devnet: TestNet;
    beforeAll(async () => {
      devnet = await startTestDevnet();
    });
    afterAll(() => devnet?.stop());

    const seenByDevnet = () =>
      devnet.devnet.admin.connections().reduce((n, e) => n + e.connections + e.requests, 0);

    it("reaches the devnet through a Tor exit relay, never from the test process", async () => {
      const chain = createChain({
        nodeUrls: [devnet.devnet.url],
        usdtContract: devnet.devnet.usdtAddress,
        log,
        timeoutMs: 15_000,
        fetch: torFetch,
      });
      const before = seenByDevnet();
      const head = await chain.head();
      expect(head.number).toBeGreaterThanOrEqual(0n);
      expect(seenByDevnet()).toBeGreaterThan(before);
      // The kept-alive stream holds the exit's connection to the devnet open: it is a tor's.
      const port = Number(new URL(devnet.devnet.url).port);
      const owners = ownersOfConnectionsTo(port, [...net.pids(), process.pid]);
      expect(owners.length).toBeGreaterThan(0);
      expect(owners).not.toContain(process.pid);
    }, 45_000);

    it("fails with node.unavailable and opens no connection when Tor's SOCKS port is down", async () => {
      const chain = createChain({
        nodeUrls: [devnet.devnet.url],
        usdtContract: devnet.devnet.usdtAddress,
        log,
        timeoutMs: 5_000,
        fetch: torFetch,
      });
      await net.stopNode("client");
      const before = devnet.devnet.admin.connections();
      const err = await chain.head().catch((e: unknown) => e);
      expect((err as AppError).reason).toBe("node.unavailable");
      expect(devnet.devnet.admin.connections()).toEqual(before);
    });
  });
});

async function waitUntil(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
