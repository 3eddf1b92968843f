import { randomBytes, randomUUID } from "node:crypto";
import { request } from "node:http";
import http2 from "node:http2";
import { connect } from "node:net";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../chaos/procs.js";
import { runEdge } from "../../src/edge/main.js";
import { AdminService } from "../../src/gen/tronpay/v1/admin_pb.js";
import { Role } from "../../src/gen/tronpay/v1/options_pb.js";
import { PayoutService } from "../../src/gen/tronpay/v1/payout_pb.js";
import { CLIENT_HEADER, CLIENT_MAC_HEADER, originHeaders } from "../../src/shared/client-origin.js";
import { reasonOf } from "../../src/shared/errors.js";
import { createLogger } from "../../src/shared/log.js";
import { type Stack, startStack } from "../helpers/stack.js";

/**
 * API-key bindings through the edge (real core, signer and devnet; the edge in this process):
 * the edge tells core who its client is — the address of a caller on the plain listener, or
 * "onion" for a caller on the onion listener — with a MAC under the secret both share, so
 * allowed_ips, onion_only and the failed-authentication buckets see the client, not the edge.
 * Clients come from different loopback addresses (127.0.0.2, 127.0.0.3) while core sees the
 * edge at 127.0.0.1, so a binding that passes can only have used the edge's statement.
 */

let stack: Stack;
let edge: Awaited<ReturnType<typeof runEdge>>;
const FAILURES_PER_WINDOW = 4;
const secret = randomBytes(32).toString("base64url");

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
type Json = Record<string, any>;

beforeAll(async () => {
  stack = await startStack({
    coreEnv: {
      TRONPAY_EDGE_FORWARD_SECRET: secret,
      TRONPAY_RATE_AUTH_FAILURES_PER_MIN: String(FAILURES_PER_WINDOW),
    },
  });
  edge = await runEdge(
    [],
    {
      TRONPAY_CORE_URL: stack.coreUrl,
      TRONPAY_EDGE_HOST: "127.0.0.1",
      TRONPAY_EDGE_PORT: "0",
      // A fixed onion listener without Tor: this test is the Tor in front of it.
      TRONPAY_EDGE_ONION_LISTEN_PORT: String(await freePort()),
      TRONPAY_EDGE_FORWARD_SECRET: secret,
      TRONPAY_RATE_AUTH_FAILURES_PER_MIN: String(FAILURES_PER_WINDOW),
      // Every call asks core, so core's verdict on each origin is what is tested.
      TRONPAY_EDGE_AUTH_CACHE_TTL_SEC: "0",
    },
    { log: createLogger({ name: "edge", level: "silent" }) },
  );
}, 120_000);

afterAll(async () => {
  await edge?.stop();
  await stack?.stop();
});

/** GET /v1/payouts on `base` from the local address `from`, with `key`. */
function list(
  base: string,
  key: string,
  from = "127.0.0.1",
  extra: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  return call(base, "GET", "/v1/payouts", key, from, extra);
}

/** One REST call from the local address `from` (JSON body when given). */
function call(
  base: string,
  method: string,
  path: string,
  key: string,
  from: string,
  extra: Record<string, string> = {},
  body?: Json,
): Promise<{ status: number; body: Json }> {
  const url = new URL(path, base);
  const headers: Record<string, string> = {
    authorization: `Bearer ${key}`,
    "x-request-id": randomUUID(),
    ...extra,
  };
  if (body) headers["content-type"] = "application/json";
  return new Promise((resolve, reject) => {
    const req = request(
      {
        method,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        localAddress: from,
        headers,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: text === "" ? {} : JSON.parse(text) }),
        );
      },
    );
    req.on("error", reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/**
 * ListPayouts straight to core (Connect) from 127.0.0.10 with `key` and extra headers; the
 * reason. (Not 127.0.0.1: the failures counted there would lock out this test's admin calls.)
 */
async function coreDirect(key: string, extra: Record<string, string> = {}): Promise<string> {
  const url = new URL(stack.coreUrl);
  const transport = createConnectTransport({
    httpVersion: "2",
    baseUrl: stack.coreUrl,
    nodeOptions: {
      createConnection: () =>
        connect({ host: url.hostname, port: Number(url.port), localAddress: "127.0.0.10" }),
    },
  });
  const headers = { authorization: `Bearer ${key}`, ...extra };
  return createClient(PayoutService, transport)
    .listPayouts({}, { headers })
    .then(
      () => "ok",
      (err: unknown) => reasonOf(err) ?? "no reason",
    );
}

async function newKey(
  name: string,
  binding: { allowedIps?: string[]; onionOnly?: boolean },
): Promise<string> {
  const created = await stack.client(AdminService).createApiKey({
    idempotencyKey: randomUUID(),
    name,
    roles: [Role.AUDITOR],
    ...binding,
  });
  return created.key;
}

/** The same key id with a wrong secret of the right shape ("tp_" + 24 hex + "_" + secret). */
function wrongSecret(key: string): string {
  return `${key.slice(0, 28)}${randomBytes(32).toString("base64url")}`;
}

const onionUrl = () => edge.onionUrl ?? "";
const reason = (body: Json) => body.details?.[0]?.reason as string | undefined;

describe("API-key bindings through the edge", () => {
  it("opens an onion listener apart from the plain one", () => {
    expect(onionUrl()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(onionUrl()).not.toBe(edge.url);
  });

  it("accepts a key bound to an address from that address only, through the edge", async () => {
    const key = await newKey("bound to .2", { allowedIps: ["127.0.0.2/32"] });
    expect((await list(edge.url, key, "127.0.0.2")).status).toBe(200);
    const other = await list(edge.url, key, "127.0.0.3");
    expect(other.status).toBe(401);
    expect(reason(other.body)).toBe("auth.unauthenticated");
    // Core's own peer is the edge (127.0.0.1), which the key does not allow: the 200 above
    // used the edge's statement. Direct to core from another address it is refused.
    expect(await coreDirect(key)).toBe("auth.unauthenticated");
    // Over the onion there is no client address: a non-empty list never matches.
    expect((await list(onionUrl(), key, "127.0.0.2")).status).toBe(401);
  });

  it("accepts an onion_only key on the onion listener only", async () => {
    const key = await newKey("onion only", { onionOnly: true });
    expect((await list(onionUrl(), key)).status).toBe(200);
    expect((await list(edge.url, key, "127.0.0.11")).status).toBe(401);
    expect(await coreDirect(key)).toBe("auth.unauthenticated");
  });

  it("binds tokens issued for a bound key as the key is bound", async () => {
    const onionKey = await newKey("onion only, token", { onionOnly: true });
    const issue = (key: string, from: string, base = onionUrl()) =>
      call(base, "POST", "/v1/tokens", key, from, {}, { idempotencyKey: randomUUID() });
    const onionToken = (await issue(onionKey, "127.0.0.1")).body.token.accessToken as string;
    expect((await list(onionUrl(), onionToken)).status).toBe(200);
    expect((await list(edge.url, onionToken, "127.0.0.12")).status).toBe(401);
    expect(await coreDirect(onionToken)).toBe("auth.unauthenticated");

    const ipKey = await newKey("bound to .6, token", { allowedIps: ["127.0.0.6"] });
    const ipToken = (await issue(ipKey, "127.0.0.6", edge.url)).body.token.accessToken as string;
    expect((await list(edge.url, ipToken, "127.0.0.6")).status).toBe(200);
    expect((await list(edge.url, ipToken, "127.0.0.7")).status).toBe(401);
  });

  it("drops a client's own claim to be an onion client on the plain listener", async () => {
    const key = await newKey("onion only, forged", { onionOnly: true });
    const forged = await list(edge.url, key, "127.0.0.13", {
      [CLIENT_HEADER]: "onion",
      [CLIENT_MAC_HEADER]: "x".repeat(43),
    });
    expect(forged.status).toBe(401);
  });

  it("counts failed authentications per client address, not per edge", async () => {
    const key = await newKey("good neighbour", { allowedIps: ["127.0.0.0/8"] });
    const bad = wrongSecret(key);
    const answers: number[] = [];
    for (let i = 0; i < FAILURES_PER_WINDOW + 2; i++) {
      answers.push((await list(edge.url, bad, "127.0.0.4")).status);
    }
    expect(answers.slice(0, FAILURES_PER_WINDOW)).toEqual(Array(FAILURES_PER_WINDOW).fill(401));
    expect(answers.at(-1)).toBe(429);
    // Another client of the same edge is not locked out.
    expect((await list(edge.url, key, "127.0.0.5")).status).toBe(200);
  });

  it("counts onion clients' failures per credential, so a guesser locks out only itself", async () => {
    const target = await newKey("onion target", { onionOnly: true });
    const bystander = await newKey("onion bystander", { onionOnly: true });
    const bad = wrongSecret(target);
    let last = 0;
    for (let i = 0; i < FAILURES_PER_WINDOW + 2; i++) last = (await list(onionUrl(), bad)).status;
    expect(last).toBe(429);
    // Guessing secrets for the target's (public) key id does not lock the target out.
    expect((await list(onionUrl(), target)).status).toBe(200);
    expect((await list(onionUrl(), bystander)).status).toBe(200);
    // Nor do many different garbage tokens lock out a valid onion JWT user.
    const issued = await call(
      onionUrl(),
      "POST",
      "/v1/tokens",
      bystander,
      "127.0.0.1",
      {},
      {
        idempotencyKey: randomUUID(),
      },
    );
    const jwt = issued.body.token.accessToken as string;
    for (let i = 0; i < FAILURES_PER_WINDOW * 5 + 1; i++) {
      const garbage = `${randomBytes(12).toString("base64url")}.e30.${randomBytes(8).toString("base64url")}`;
      expect((await list(onionUrl(), garbage)).status).toBe(401);
    }
    expect((await list(onionUrl(), jwt)).status).toBe(200);
  });
});

describe("core's side of the forward", () => {
  it("refuses a statement of origin it cannot verify, even with a valid key, and logs why", async () => {
    expect(await coreDirect(stack.adminKey)).toBe("ok");
    const forged = { [CLIENT_HEADER]: "onion", [CLIENT_MAC_HEADER]: "x".repeat(43) };
    expect(await coreDirect(stack.adminKey, forged)).toBe("auth.unauthenticated");
    const half = { [CLIENT_HEADER]: "ip=127.0.0.9" };
    expect(await coreDirect(stack.adminKey, half)).toBe("auth.unauthenticated");
    expect(stack.core.lines.some((l) => l.includes('"msg":"client origin not trusted"'))).toBe(
      true,
    );
  });

  it("refuses a real statement of the edge on another call, and a replayed one", async () => {
    // What an edge really sends (recorded on its way to core) replayed on another RPC.
    const captured = await captureStatement();
    expect(captured[CLIENT_HEADER]).toBe("ip=127.0.0.1");
    expect(await coreDirect(stack.adminKey, captured)).toBe("auth.unauthenticated");
    // A statement made for this very call passes once; the same headers again do not.
    const requestId = randomUUID();
    const headers: Record<string, string> = { "x-request-id": requestId };
    const call = { procedure: "/tronpay.v1.PayoutService/ListPayouts", requestId };
    for (const [name, value] of originHeaders(secret, { ip: "127.0.0.9", viaOnion: false }, call))
      headers[name] = value;
    expect(await coreDirect(stack.adminKey, headers)).toBe("ok");
    expect(await coreDirect(stack.adminKey, headers)).toBe("auth.unauthenticated");
  });
});

/**
 * The origin headers an edge sends to core for one REST call, recorded by a stand-in "core"
 * that answers nothing useful (the edge's WhoAmI question carries them too).
 */
async function captureStatement(): Promise<Record<string, string>> {
  const got: Record<string, string>[] = [];
  const recorder = http2.createServer((req, res) => {
    const pick: Record<string, string> = {};
    for (const name of [CLIENT_HEADER, CLIENT_MAC_HEADER, "x-request-id"]) {
      const value = req.headers[name];
      if (typeof value === "string") pick[name] = value;
    }
    got.push(pick);
    res.writeHead(503);
    res.end();
  });
  await new Promise<void>((resolve) => recorder.listen(0, "127.0.0.1", resolve));
  const port = (recorder.address() as { port: number }).port;
  const other = await runEdge(
    [],
    {
      TRONPAY_CORE_URL: `http://127.0.0.1:${port}`,
      TRONPAY_EDGE_HOST: "127.0.0.1",
      TRONPAY_EDGE_PORT: "0",
      TRONPAY_EDGE_FORWARD_SECRET: secret,
    },
    { log: createLogger({ name: "edge", level: "silent" }) },
  );
  try {
    await fetch(`${other.url}/v1/payouts/po_1`, {
      headers: { authorization: `Bearer ${stack.adminKey}`, "x-request-id": randomUUID() },
    });
  } finally {
    await other.stop();
    recorder.close();
  }
  const statement = got.find((h) => h[CLIENT_HEADER] !== undefined);
  if (!statement) throw new Error("the edge stated no origin");
  return statement;
}
