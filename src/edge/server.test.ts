import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type Interceptor,
} from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { AdminService } from "../gen/tronpay/v1/admin_pb.js";
import { Role } from "../gen/tronpay/v1/options_pb.js";
import { PayoutSchema, PayoutService } from "../gen/tronpay/v1/payout_pb.js";
import { loadConfig } from "../shared/config.js";
import { AppError, reasonOf, toConnectError } from "../shared/errors.js";
import { createLogger, type Logger } from "../shared/log.js";
import { createEdgeAccess, type EdgeAccess } from "./access/gate.js";
import { edgeConfigSpec } from "./config.js";
import { type EdgeServer, startEdgeServer } from "./server.js";
import type { StaticPages, TorReadiness } from "./static.js";
import { restRoutesOf } from "./transcode/rules.js";

/** What the stub core saw of the last call. */
const seen: { header?: Headers; timeoutMs?: number | undefined; key?: string } = {};
let release: () => void = () => {};

/** Well-formed API keys the stub core knows: an admin's and an auditor's. */
const newKey = () =>
  `tp_${randomBytes(12).toString("hex")}_${randomBytes(32).toString("base64url")}`;
const KEY = newKey();
const AUDITOR_KEY = newKey();
const whoAmIAsked: string[] = [];

const transport = createRouterTransport(({ service }) => {
  // The stub core's answer about a credential, as core's WhoAmI gives it.
  service(AdminService, {
    whoAmI(_req, ctx) {
      const presented = (ctx.requestHeader.get("authorization") ?? "").replace(/^Bearer /, "");
      whoAmIAsked.push(presented);
      if (presented === KEY) return { principal: "key:admin", roles: [Role.ADMIN] };
      if (presented === AUDITOR_KEY) return { principal: "key:auditor", roles: [Role.AUDITOR] };
      throw toConnectError(new AppError("auth.unauthenticated", "missing or invalid credentials"));
    },
  });
  service(PayoutService, {
    createPayout(req, ctx) {
      seen.header = ctx.requestHeader;
      seen.timeoutMs = ctx.timeoutMs();
      seen.key = req.idempotencyKey;
      return { payout: create(PayoutSchema, { id: "p_1", clientReference: req.clientReference }) };
    },
    async getPayout(req) {
      if (req.id === "slow") await new Promise<void>((r) => (release = r));
      if (req.id === "boom") throw new ConnectError("db at 10.9.8.7 down", Code.Internal);
      return { payout: create(PayoutSchema, { id: req.id }) };
    },
  });
});

let server: EdgeServer | undefined;
let access: EdgeAccess | undefined;
afterEach(async () => {
  release();
  await server?.close();
  await access?.stop();
});

/** fetch with the admin key, as an API client sends it. */
function authed(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("authorization")) headers.set("authorization", `Bearer ${KEY}`);
  return fetch(url, { ...init, headers });
}

// biome-ignore lint/suspicious/noExplicitAny: log lines and bodies are checked by the assertions.
type Json = Record<string, any>;

async function start(
  env: Record<string, string> = {},
  pages: Partial<StaticPages> = {},
  log: Logger = createLogger({ name: "edge", level: "silent" }),
) {
  const config = loadConfig(edgeConfigSpec, {
    env: { TRONPAY_EDGE_PORT: "0", TRONPAY_CORE_URL: "http://127.0.0.1:9", ...env },
  });
  access = createEdgeAccess(config, {
    transport,
    log: createLogger({ name: "edge", level: "silent" }),
  });
  server = await startEdgeServer({
    config,
    transport,
    access,
    routes: restRoutesOf(),
    log,
    pages: { openapiJson: "{}", docsHtml: "<p>x</p>", ready: async () => false, ...pages },
  });
  return server.url;
}

describe("the edge server", () => {
  it("fills idempotency_key from the header, forwards credentials, request id and a deadline", async () => {
    const url = await start({ TRONPAY_EDGE_DEADLINE_MS: "7000" });
    const res = await authed(`${url}/v1/payouts`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "idempotency-key": "k-1",
        authorization: `Bearer ${KEY}`,
        "x-request-id": "req-42",
        cookie: "not=forwarded",
      },
      body: JSON.stringify({ clientReference: "ref" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      payout: expect.objectContaining({ id: "p_1", clientReference: "ref" }),
    });
    expect(seen.key).toBe("k-1");
    expect(seen.header?.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(seen.header?.get("x-request-id")).toBe("req-42");
    expect(seen.header?.get("cookie")).toBeNull();
    expect(seen.timeoutMs).toBeGreaterThan(6000);
    expect(seen.timeoutMs).toBeLessThanOrEqual(7000);
    expect(res.headers.get("x-request-id")).toBe("req-42");
  });

  it("accepts the same idempotency key in header and body, refuses two different ones", async () => {
    const url = await start();
    const send = (header: string, body: string) =>
      authed(`${url}/v1/payouts`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": header },
        body: JSON.stringify({ idempotencyKey: body }),
      });
    expect((await send("same", "same")).status).toBe(200);
    expect(seen.key).toBe("same");
    seen.key = undefined;
    const res = await send("header", "body");
    expect(res.status).toBe(400);
    const body = (await res.json()) as { details: { reason: string }[] };
    expect(body.details[0]?.reason).toBe("request.idempotency_key_mismatch");
    expect(seen.key).toBeUndefined();
  });

  it("answers 405 with Allow for GET on a POST-only custom-verb route", async () => {
    const url = await start();
    const res = await authed(`${url}/v1/payouts/po_1:cancel`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    const body = (await res.json()) as { details: { reason: string }[] };
    expect(body.details[0]?.reason).toBe("request.method_not_allowed");
  });

  it("answers 400 for NUL bytes in path, query and body text and for unknown enum numbers", async () => {
    const url = await start();
    const reason = async (res: Response) => {
      const body = (await res.json()) as { details: { reason: string; metadata: Json }[] };
      return { status: res.status, ...body.details[0] };
    };
    expect(await reason(await authed(`${url}/v1/payouts/po_x%00`))).toMatchObject({
      status: 400,
      reason: "request.invalid",
      metadata: { field: "id" },
    });
    expect(await reason(await authed(`${url}/v1/payouts?states=99`))).toMatchObject({
      status: 400,
      reason: "request.invalid",
      metadata: { field: "states" },
    });
    expect(await reason(await authed(`${url}/v1/payouts?client_reference=a%00b`))).toMatchObject({
      status: 400,
      reason: "request.invalid",
    });
    seen.key = undefined;
    const post = await authed(`${url}/v1/payouts`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "k-nul" },
      body: JSON.stringify({ clientReference: "a\u0000b", route: 99 }),
    });
    expect(await reason(post)).toMatchObject({ status: 400, reason: "request.invalid" });
    expect(seen.key).toBeUndefined();
  });

  it("logs the cause of every 500 it answers with the request id", async () => {
    const lines: Json[] = [];
    const destination = { write: (line: string) => void lines.push(JSON.parse(line) as Json) };
    const url = await start({}, {}, createLogger({ name: "edge", level: "info", destination }));
    const res = await authed(`${url}/v1/payouts/boom`, { headers: { "x-request-id": "req-500" } });
    expect(res.status).toBe(500);
    const logged = lines.find((l) => l.requestId === "req-500");
    expect(logged?.level).toBeGreaterThanOrEqual(50);
    expect(JSON.stringify(logged)).toContain("db at 10.9.8.7 down");
  });

  it("sets security headers on API answers", async () => {
    const url = await start();
    const res = await authed(`${url}/v1/payouts/p_9`);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  });

  it("answers 503 once the concurrency cap is reached", async () => {
    const url = await start({ TRONPAY_EDGE_MAX_CONCURRENT: "1" });
    const slow = authed(`${url}/v1/payouts/slow`);
    await new Promise((r) => setTimeout(r, 100));
    const over = await authed(`${url}/v1/payouts/p_2`);
    expect(over.status).toBe(503);
    expect(((await over.json()) as { details: { reason: string }[] }).details[0]?.reason).toBe(
      "edge.overloaded",
    );
    release();
    expect((await slow).status).toBe(200);
  });

  it("hides internal error text from core", async () => {
    const url = await start();
    const res = await authed(`${url}/v1/payouts/boom`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain("10.9.8.7");
  });

  it("answers /readyz 503 when core does not answer, /healthz 200 regardless", async () => {
    const url = await start();
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it("answers /readyz 503 in tor mode until the onion is published on a bootstrapped Tor", async () => {
    let tor: TorReadiness = { ready: false, published: false, bootstrap: undefined };
    const url = await start({}, { ready: async () => true, tor: () => tor });
    const readyz = async () => {
      const res = await fetch(`${url}/readyz`);
      return { status: res.status, body: await res.json() };
    };
    expect(await readyz()).toEqual({
      status: 503,
      body: { status: "onion not published", tor: { published: false, bootstrap: null } },
    });
    tor = { ready: false, published: true, bootstrap: 45 };
    expect((await readyz()).status).toBe(503);
    tor = { ready: true, published: true, bootstrap: 100 };
    expect(await readyz()).toEqual({
      status: 200,
      body: { status: "ready", tor: { published: true, bootstrap: 100 } },
    });
  });

  it("answers /readyz without Tor's state when Tor is off", async () => {
    const url = await start({}, { ready: async () => true });
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready" });
  });
});

describe("the edge's own access check", () => {
  type Protocol = "connect" | "grpc" | "grpc-web";
  const payouts = (url: string, key: string | undefined, protocol: Protocol = "connect") => {
    const options = {
      baseUrl: url,
      httpVersion: "2" as const,
      interceptors: [
        ((next) => (req) => {
          if (key !== undefined) req.header.set("authorization", `Bearer ${key}`);
          return next(req);
        }) satisfies Interceptor,
      ],
    };
    const transport =
      protocol === "grpc"
        ? createGrpcTransport(options)
        : protocol === "grpc-web"
          ? createGrpcWebTransport(options)
          : createConnectTransport(options);
    return createClient(PayoutService, transport);
  };

  it("answers 401 without credentials or with a malformed one, without asking core", async () => {
    const url = await start();
    const asked = whoAmIAsked.length;
    for (const authorization of [undefined, "Bearer tp_x", "Basic dXNlcjpwdw=="]) {
      const res = await fetch(`${url}/v1/payouts/p_1`, {
        headers: authorization ? { authorization } : {},
      });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { details: { reason: string }[] };
      expect(body.details[0]?.reason).toBe("auth.unauthenticated");
    }
    expect(whoAmIAsked.length).toBe(asked);
  });

  it("asks core once per credential, keeps refusals too, and refuses a role itself", async () => {
    const url = await start();
    const before = whoAmIAsked.length;
    for (let i = 0; i < 3; i++) expect((await authed(`${url}/v1/payouts/p_1`)).status).toBe(200);
    const unknown = newKey();
    for (let i = 0; i < 2; i++) {
      const res = await authed(`${url}/v1/payouts/p_1`, {
        headers: { authorization: `Bearer ${unknown}` },
      });
      expect(res.status).toBe(401);
    }
    expect(whoAmIAsked.slice(before)).toEqual([KEY, unknown]);
    seen.key = undefined;
    const denied = await authed(`${url}/v1/payouts`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${AUDITOR_KEY}`,
        "content-type": "application/json",
        "idempotency-key": "k-denied",
      },
      body: "{}",
    });
    expect(denied.status).toBe(403);
    const body = (await denied.json()) as { details: { metadata: Record<string, string> }[] };
    expect(body.details[0]?.metadata.required).toContain("ROLE_OPERATOR");
    expect(seen.key).toBeUndefined();
  });

  it("counts calls per principal and method, with RateLimit-* headers and Retry-After", async () => {
    const url = await start({ TRONPAY_RATE_READ_PER_MIN: "2", TRONPAY_EDGE_RATE_WINDOW_SEC: "1" });
    const first = await authed(`${url}/v1/payouts/p_1`);
    expect(first.headers.get("ratelimit-limit")).toBe("2");
    expect(first.headers.get("ratelimit-remaining")).toBe("1");
    expect(Number(first.headers.get("ratelimit-reset"))).toBe(1);
    expect((await authed(`${url}/v1/payouts/p_1`)).headers.get("ratelimit-remaining")).toBe("0");
    const over = await authed(`${url}/v1/payouts/p_1`);
    expect(over.status).toBe(429);
    expect(over.headers.get("retry-after")).toBe("1");
    expect(over.headers.get("ratelimit-remaining")).toBe("0");
    const types = ((await over.json()) as { details: { "@type": string }[] }).details.map(
      (d) => d["@type"],
    );
    expect(types).toContain("type.googleapis.com/google.rpc.RetryInfo");
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await authed(`${url}/v1/payouts/p_1`)).status).toBe(200);
  });

  it("refuses pass-through RPCs in the client's own protocol", async () => {
    const url = await start();
    for (const rpc of ["connect", "grpc", "grpc-web"] as const) {
      const err = await payouts(url, undefined, rpc)
        .getPayout({ id: "p_1" })
        .catch((e: unknown) => e);
      expect(err, rpc).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code, rpc).toBe(Code.Unauthenticated);
      expect(reasonOf(err), rpc).toBe("auth.unauthenticated");
      const denied = await payouts(url, AUDITOR_KEY, rpc)
        .createPayout({ idempotencyKey: "k" })
        .catch((e: unknown) => e);
      expect(reasonOf(denied), rpc).toBe("auth.permission_denied");
      // A server stream (Connect answers it with an end-stream message).
      const stream = async () => {
        for await (const _ of payouts(url, undefined, rpc).watchPayoutBatch({ id: "b_1" }));
      };
      expect(reasonOf(await stream().catch((e: unknown) => e)), rpc).toBe("auth.unauthenticated");
    }
  });
});

describe("CORS", () => {
  const preflight = (url: string, origin: string) =>
    fetch(`${url}/v1/payouts`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST" },
    });

  it("sends no CORS headers by default", async () => {
    const url = await start();
    const res = await preflight(url, "http://127.0.0.1:5555");
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers preflights from configured origins only", async () => {
    const url = await start({ TRONPAY_EDGE_CORS_ORIGINS: "http://127.0.0.1:5555" });
    const ok = await preflight(url, "http://127.0.0.1:5555");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:5555");
    expect(ok.headers.get("access-control-allow-headers")).toContain("idempotency-key");
    const other = await preflight(url, "http://127.0.0.1:6666");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const get = await authed(`${url}/v1/payouts/p_1`, {
      headers: { origin: "http://127.0.0.1:5555" },
    });
    expect(get.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:5555");
  });
});

describe("listening on a Unix socket", () => {
  it("serves there instead of a TCP port (how Tor reaches the edge)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tp-edge-"));
    const socketPath = join(dir, "edge.sock");
    const url = await start({ TRONPAY_EDGE_SOCKET: socketPath });
    expect(url).toBe(`unix:${socketPath}`);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      http
        .get({ socketPath, path: "/healthz" }, (res) => {
          res.resume();
          resolve(res.statusCode);
        })
        .on("error", reject);
    });
    expect(status).toBe(200);
  });
});
