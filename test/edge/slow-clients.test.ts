import { randomBytes } from "node:crypto";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../chaos/procs.js";
import { createEdgeAccess, type EdgeAccess } from "../../src/edge/access/gate.js";
import { edgeConfigSpec } from "../../src/edge/config.js";
import { type EdgeServer, startEdgeServer } from "../../src/edge/server.js";
import { restRoutesOf } from "../../src/edge/transcode/rules.js";
import { AdminService } from "../../src/gen/tronpay/v1/admin_pb.js";
import { Role } from "../../src/gen/tronpay/v1/options_pb.js";
import { PayoutSchema, PayoutService } from "../../src/gen/tronpay/v1/payout_pb.js";
import { loadConfig } from "../../src/shared/config.js";
import { AppError, toConnectError } from "../../src/shared/errors.js";
import { createLogger } from "../../src/shared/log.js";
import { startProcess, type TestProcess } from "../helpers/process.js";
import type { Kind, Life, SlowPlan } from "./slow-clients.attacker.js";

/**
 * The edge under slow clients (issue 16, item 1): hundreds of connections from a handful of
 * loopback addresses (127.0.0.2–7, via localAddress) that send headers or bodies one byte every
 * 2 s, or open HTTP/2 sessions and send nothing, on both listeners, while a normal client on
 * 127.0.0.1 keeps calling. The edge runs in this process over a stand-in core (the edge's
 * admission control is what is tested; core is not involved in it).
 */

/** Lets every held "slow" GetPayout answer. */
const releases: (() => void)[] = [];
const KEY = `tp_${randomBytes(12).toString("hex")}_${randomBytes(32).toString("base64url")}`;
const transport = createRouterTransport(({ service }) => {
  service(AdminService, {
    whoAmI(_req, ctx) {
      if (ctx.requestHeader.get("authorization") === `Bearer ${KEY}`) {
        return { principal: "key:admin", roles: [Role.ADMIN] };
      }
      throw toConnectError(new AppError("auth.unauthenticated", "missing or invalid credentials"));
    },
  });
  service(PayoutService, {
    async getPayout(req) {
      // "slow" answers when the test lets it go.
      if (req.id === "slow") await new Promise<void>((r) => releases.push(r));
      return { payout: create(PayoutSchema, { id: req.id }) };
    },
  });
});

const TIMEOUTS = { headers: 2_000, body: 3_000, keepAlive: 1_000 };
/** Timers on a loaded 2-core machine fire late; a connection may close this much after its due. */
const SLACK_MS = 1_000;

let server: EdgeServer | undefined;
let access: EdgeAccess | undefined;
let attacker: TestProcess | undefined;
afterEach(async () => {
  for (const release of releases.splice(0)) release();
  await attacker?.stop();
  await server?.close();
  await access?.stop();
});

async function start(env: Record<string, string> = {}) {
  const config = loadConfig(edgeConfigSpec, {
    env: {
      TRONPAY_EDGE_PORT: "0",
      TRONPAY_CORE_URL: "http://127.0.0.1:9",
      TRONPAY_EDGE_ONION_LISTEN_PORT: String(await freePort()),
      TRONPAY_EDGE_HEADERS_TIMEOUT_MS: String(TIMEOUTS.headers),
      TRONPAY_EDGE_REQUEST_TIMEOUT_MS: String(TIMEOUTS.body),
      TRONPAY_EDGE_KEEPALIVE_TIMEOUT_MS: String(TIMEOUTS.keepAlive),
      ...env,
    },
  });
  const log = createLogger({ name: "edge", level: "silent" });
  access = createEdgeAccess(config, { transport, log });
  server = await startEdgeServer({
    config,
    transport,
    access,
    routes: restRoutesOf(),
    log,
    pages: { openapiJson: "{}", docsHtml: "<p>x</p>", ready: async () => true },
  });
  const port = (url: string) => Number(new URL(url).port);
  return { plain: port(server.url), onion: port(server.onionUrl ?? "") };
}

/** How long each kind may live: its timeout (the body's starts once the headers are in). */
const DUE: Record<Kind, number> = {
  "h1-slow-headers": TIMEOUTS.headers,
  "h1-slow-body": TIMEOUTS.body,
  "h2-slow-body": TIMEOUTS.body,
  "h2-idle": TIMEOUTS.headers,
};

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

describe("slow clients", () => {
  it("cost the attacker: 300 slow clients for 20 s, a normal client keeps answering fast", async () => {
    const ports = await start();
    const RUN_MS = 20_000;
    // 300 clients from six addresses: 260 on the plain listener, 40 on the onion listener.
    // Most send a body slowly: more of them than the edge has request slots (256).
    const plan: SlowPlan["plan"] = [
      ["h1-slow-headers", "plain", 20],
      ["h1-slow-body", "plain", 140],
      ["h2-slow-body", "plain", 90],
      ["h2-idle", "plain", 10],
      ["h1-slow-headers", "onion", 10],
      ["h1-slow-body", "onion", 30],
    ];
    expect(plan.reduce((n, [, , count]) => n + count, 0)).toBe(300);
    const addresses = [2, 3, 4, 5, 6, 7].map((i) => `127.0.0.${i}`);
    attacker = startProcess("test/edge/slow-clients.attacker.ts", {
      SLOW_CLIENTS: JSON.stringify({ ports, plan, addresses, runMs: RUN_MS } satisfies SlowPlan),
    });
    await attacker.waitForLog("slow clients started", 30_000);
    const until = Date.now() + RUN_MS;
    // The normal client: one call at a time, a probe and an authenticated REST read in turn.
    const latencies: number[] = [];
    const failures: string[] = [];
    await new Promise((r) => setTimeout(r, 1_000));
    for (let i = 0; Date.now() < until - 500; i++) {
      const path = i % 2 === 0 ? "/healthz" : "/v1/payouts/p_1";
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${ports.plain}${path}`, {
        headers: { authorization: `Bearer ${KEY}` },
      }).catch((e: unknown) => e as Error);
      latencies.push(performance.now() - t0);
      if (res instanceof Error) failures.push(`${path}: ${res.message}`);
      else {
        await res.arrayBuffer();
        if (res.status !== 200) failures.push(`${path}: ${res.status}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const { lives } = (await attacker.waitForLog("slow clients done", 30_000)) as unknown as {
      lives: Life[];
    };
    const p95 = percentile(latencies, 95);
    const report: Record<string, unknown> = {
      normalClient: {
        requests: latencies.length,
        failures: failures.length,
        p50Ms: Math.round(percentile(latencies, 50)),
        p95Ms: Math.round(p95),
        maxMs: Math.round(Math.max(...latencies)),
      },
    };
    const late: string[] = [];
    for (const [kind, listener] of plan) {
      const mine = lives.filter((l) => l.kind === kind && l.listener === listener);
      // A life cut short by the end of the run says nothing about the edge.
      const closed = mine.filter((l) => l.closedAt !== undefined);
      const ms = closed.map((l) => (l.closedAt as number) - l.openedAt);
      report[`${kind}@${listener}`] = {
        connections: mine.length,
        closedByEdge: closed.length,
        dueMs: DUE[kind],
        p50Ms: percentile(ms, 50),
        maxMs: Math.max(0, ...ms),
      };
      for (const l of mine) {
        // Still open at the end of the run: it lived at least until then.
        const lived = (l.closedAt ?? until) - l.openedAt;
        if (lived > DUE[kind] + SLACK_MS) late.push(`${kind}@${listener} lived ${lived} ms`);
      }
    }
    console.log(`slow clients (issue 16 item 1): ${JSON.stringify(report, null, 2)}`);
    // Every kind was cut off by the edge within the run.
    for (const [key, value] of Object.entries(report)) {
      if (key !== "normalClient")
        expect((value as { closedByEdge: number }).closedByEdge, key).toBeGreaterThan(0);
    }
    expect(late).toEqual([]);
    expect(failures).toEqual([]);
    expect(latencies.length).toBeGreaterThan(50);
    expect(p95).toBeLessThan(200);
  }, 60_000);

  it("answers 408 to a body that is late and cuts it off, HTTP/1.1 and HTTP/2, on both listeners", async () => {
    const ports = await start();
    const results = await Promise.all(
      (["plain", "onion"] as const).flatMap((listener) =>
        (["1.1", "2"] as const).map(async (version) => ({
          listener,
          version,
          ...(await lateBody(ports[listener], version, "127.0.0.8")),
        })),
      ),
    );
    console.log(`late bodies (due ${TIMEOUTS.body} ms): ${JSON.stringify(results)}`);
    for (const r of results) {
      expect(r, `${r.listener} HTTP/${r.version}`).toMatchObject({
        status: 408,
        reason: "request.timeout",
      });
      expect(r.closedMs).toBeGreaterThanOrEqual(TIMEOUTS.body - 100);
      expect(r.closedMs).toBeLessThan(TIMEOUTS.body + SLACK_MS);
    }
  });

  it("keeps each address to its share of connections and of unauthenticated requests", async () => {
    const ports = await start({
      TRONPAY_EDGE_MAX_CONNECTIONS_PER_CLIENT: "3",
      TRONPAY_EDGE_MAX_UNAUTHENTICATED_PER_CLIENT: "1",
    });
    // Connections: a fourth from one address is closed at once; another address gets in.
    const open = (address: string) =>
      net.connect({ host: "127.0.0.1", port: ports.plain, localAddress: address });
    const held = [1, 2, 3].map(() => open("127.0.0.8"));
    await Promise.all(held.map((s) => new Promise((r) => s.once("connect", r))));
    const fourth = open("127.0.0.8");
    fourth.on("error", () => {});
    const t0 = Date.now();
    await new Promise((r) => fourth.once("close", r));
    expect(Date.now() - t0).toBeLessThan(500);
    const other = open("127.0.0.9");
    await new Promise((r) => other.once("connect", r));
    await new Promise((r) => setTimeout(r, 200));
    expect(other.destroyed).toBe(false);
    for (const s of [...held, other]) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    // Unauthenticated: one slow RefreshToken holds the address's share; a second is refused
    // at once, while the same address's authenticated calls and others' RefreshToken go on.
    const slow = lateBody(ports.plain, "1.1", "127.0.0.10");
    await new Promise((r) => setTimeout(r, 300));
    const refresh = (address: string) =>
      call(ports.plain, address, "POST", "/v1/tokens:refresh", undefined, "{}");
    expect(await refresh("127.0.0.10")).toMatchObject({
      status: 503,
      reason: "edge.overloaded",
      limit: "unauthenticated_client",
    });
    expect((await call(ports.plain, "127.0.0.10", "GET", "/v1/payouts/p_1", KEY)).status).toBe(200);
    expect((await refresh("127.0.0.11")).status).not.toBe(503);
    // HTTP/2 callers count for their address too.
    expect(await refresh2(ports.plain, "127.0.0.10")).toBe(503);
    expect(await refresh2(ports.plain, "127.0.0.11")).not.toBe(503);
    expect((await slow).status).toBe(408);
  });

  it("keeps each address to its share of requests, and the onion listener to its own budget", async () => {
    const ports = await start({
      TRONPAY_EDGE_MAX_CONCURRENT_PER_CLIENT: "2",
      TRONPAY_EDGE_MAX_CONCURRENT: "3",
    });
    const get = (port: number, address: string, id: string) =>
      call(port, address, "GET", `/v1/payouts/${id}`, KEY);
    const held = [get(ports.plain, "127.0.0.12", "slow"), get(ports.plain, "127.0.0.12", "slow")];
    await new Promise((r) => setTimeout(r, 300));
    expect(await get(ports.plain, "127.0.0.12", "p_1")).toMatchObject({
      status: 503,
      reason: "edge.overloaded",
      limit: "client",
    });
    expect((await get(ports.plain, "127.0.0.13", "p_1")).status).toBe(200);
    // Onion callers all come from the local Tor: they fill the onion listener's budget…
    const onion = [1, 2, 3].map(() => get(ports.onion, "127.0.0.1", "slow"));
    await new Promise((r) => setTimeout(r, 300));
    expect(await get(ports.onion, "127.0.0.1", "p_1")).toMatchObject({
      status: 503,
      limit: "listener",
    });
    // …and none of the plain listener's.
    expect((await get(ports.plain, "127.0.0.14", "p_1")).status).toBe(200);
    for (const release of releases.splice(0)) release();
    for (const res of await Promise.all([...held, ...onion])) expect(res.status).toBe(200);
  });
});

/** A RefreshToken over HTTP/2 from `localAddress`; the status. */
function refresh2(port: number, localAddress: string): Promise<number> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://127.0.0.1:${port}`, {
      createConnection: () => net.connect({ host: "127.0.0.1", port, localAddress }),
    });
    session.on("error", () => resolve(0));
    const stream = session.request({
      ":method": "POST",
      ":path": "/v1/tokens:refresh",
      "content-type": "application/json",
    });
    stream.on("error", () => {});
    stream.on("response", (headers) => {
      resolve(Number(headers[":status"]));
      session.destroy();
    });
    stream.end("{}");
  });
}

/** One request from `localAddress`; its status and the reason of a refusal. */
function call(
  port: number,
  localAddress: string,
  method: string,
  path: string,
  key?: string,
  body?: string,
): Promise<{ status: number; reason?: string; limit?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        localAddress,
        method,
        path,
        agent: false,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString();
        });
        res.on("end", () => {
          const detail = text.startsWith("{")
            ? (
                JSON.parse(text) as {
                  details?: { reason: string; metadata?: { limit?: string } }[];
                }
              ).details?.[0]
            : undefined;
          resolve({
            status: res.statusCode ?? 0,
            reason: detail?.reason,
            limit: detail?.metadata?.limit,
          });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * A RefreshToken whose body never arrives (one byte, then nothing): the status and reason the
 * edge answers, and when the edge closed the connection (HTTP/1.1) or the stream (HTTP/2).
 */
function lateBody(
  port: number,
  version: "1.1" | "2",
  localAddress: string,
): Promise<{ status: number; reason?: string; closedMs: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let status = 0;
    let text = "";
    const done = () => {
      const reason = text.startsWith("{")
        ? (JSON.parse(text) as { details?: { reason: string }[] }).details?.[0]?.reason
        : undefined;
      resolve({ status, reason, closedMs: Date.now() - t0 });
    };
    if (version === "1.1") {
      const socket = net.connect({ host: "127.0.0.1", port, localAddress });
      socket.on("error", () => {});
      let raw = "";
      socket.on("data", (c: Buffer) => {
        raw += c.toString();
      });
      socket.once("close", () => {
        status = Number(/^HTTP\/1\.1 (\d+)/.exec(raw)?.[1] ?? 0);
        text = raw.slice(raw.indexOf("\r\n\r\n") + 4);
        done();
      });
      socket.write(
        "POST /v1/tokens:refresh HTTP/1.1\r\nhost: edge\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
      );
      return;
    }
    const session = http2.connect(`http://127.0.0.1:${port}`, {
      createConnection: () => net.connect({ host: "127.0.0.1", port, localAddress }),
    });
    session.on("error", () => {});
    const stream = session.request({
      ":method": "POST",
      ":path": "/v1/tokens:refresh",
      "content-type": "application/json",
    });
    stream.on("error", () => {});
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
    });
    stream.on("data", (c: Buffer) => {
      text += c.toString();
    });
    stream.once("close", () => {
      done();
      session.destroy();
    });
    stream.write("{");
  });
}
