import { randomUUID } from "node:crypto";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEdge } from "../../src/edge/main.js";
import { PayoutService } from "../../src/gen/tronpay/v1/payout_pb.js";
import { reasonOf } from "../../src/shared/errors.js";
import { createLogger } from "../../src/shared/log.js";
import { newTestAccount } from "../devnet/helpers.js";
import { type Stack, startStack } from "../helpers/stack.js";

/**
 * The edge checks credentials, roles and rate limits itself before anything reaches core
 * (real core, signer and devnet; the edge in this process). That core was not reached is read
 * from core's own request log: every RPC core serves logs one "rpc" line with the request id
 * the edge passed on.
 */

let stack: Stack;
let edge: Awaited<ReturnType<typeof runEdge>>;
const READS_PER_WINDOW = 3;
const WINDOW_SEC = 3;
const AUTH_CACHE_TTL_SEC = 2;

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
type Json = Record<string, any>;

beforeAll(async () => {
  stack = await startStack();
  edge = await runEdge(
    [],
    {
      TRONPAY_CORE_URL: stack.coreUrl,
      TRONPAY_EDGE_HOST: "127.0.0.1",
      TRONPAY_EDGE_PORT: "0",
      TRONPAY_RATE_READ_PER_MIN: String(READS_PER_WINDOW),
      TRONPAY_RATE_WRITE_PER_MIN: "100",
      TRONPAY_EDGE_RATE_WINDOW_SEC: String(WINDOW_SEC),
      TRONPAY_EDGE_AUTH_CACHE_TTL_SEC: String(AUTH_CACHE_TTL_SEC),
    },
    { log: createLogger({ name: "edge", level: "silent" }) },
  );
}, 120_000);

afterAll(async () => {
  await edge?.stop();
  await stack?.stop();
});

/** A REST call with a fresh request id; `key` null sends no credentials. */
async function call(
  path: string,
  init: RequestInit & { key?: string | null } = {},
): Promise<{ res: Response; body: Json; id: string }> {
  const id = `t-${randomUUID()}`;
  const headers = new Headers(init.headers);
  headers.set("x-request-id", id);
  const key = init.key === undefined ? stack.adminKey : init.key;
  if (key !== null && !headers.has("authorization") && !headers.has("x-api-key")) {
    headers.set("authorization", `Bearer ${key}`);
  }
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const res = await fetch(`${edge.url}${path}`, { ...init, headers });
  const text = await res.text();
  return { res, body: text === "" ? {} : (JSON.parse(text) as Json), id };
}

function post(path: string, body: unknown, key?: string | null) {
  return call(path, {
    method: "POST",
    key,
    headers: { "idempotency-key": randomUUID() },
    body: JSON.stringify(body),
  });
}

/** Core's "rpc" log lines of one request id. */
function coreRpcs(id: string): Json[] {
  return stack.core.lines
    .filter((line) => line.includes(id))
    .map((line) => JSON.parse(line) as Json)
    .filter((line) => line.msg === "rpc" && line.request_id === id);
}

/**
 * Waits until core has logged the request `marker` (sent after the ones being checked), so
 * that anything core did for the earlier requests is in its log too.
 */
async function coreLogCaughtUp(marker: string): Promise<void> {
  const until = Date.now() + 10_000;
  while (coreRpcs(marker).length === 0) {
    if (Date.now() > until) throw new Error(`core never logged request ${marker}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A request that reaches core (a write, so it does not use the read budget of the tests). */
async function marker(): Promise<string> {
  const { res, id } = await post("/v1/payouts:resume", {});
  expect(res.status).toBe(200);
  await coreLogCaughtUp(id);
  return id;
}

const reason = (body: Json) => body.details?.[0]?.reason as string | undefined;

describe("authentication at the edge", () => {
  it("answers 401 itself, without reaching core, for missing or malformed credentials", async () => {
    const refused = [
      await call("/v1/payouts", { key: null }),
      await call("/v1/payouts", { headers: { authorization: "Bearer not-a-key" } }),
      await call("/v1/payouts", { headers: { authorization: "Basic dXNlcjpwdw==" } }),
      await call("/v1/payouts", { headers: { "x-api-key": "tp_short" } }),
    ];
    for (const { res, body, id } of refused) {
      expect(res.status).toBe(401);
      expect(res.headers.get("x-request-id")).toBe(id);
      expect(reason(body)).toBe("auth.unauthenticated");
      expect(body.message).toBe("missing or invalid credentials");
    }
    await marker();
    for (const { id } of refused) expect(coreRpcs(id)).toEqual([]);
  });

  it("asks core once about an unknown well-formed key and then refuses it alone", async () => {
    const unknown = `tp_${"0".repeat(24)}_${"A".repeat(42)}A`;
    const first = await call("/v1/payouts", { key: unknown });
    const again = await call("/v1/payouts", { key: unknown });
    expect([first.res.status, again.res.status]).toEqual([401, 401]);
    await marker();
    // Core was asked who the key is (and said nobody); ListPayouts never reached it.
    expect(coreRpcs(first.id).map((l) => [l.method, l.code])).toEqual([
      ["tronpay.v1.AdminService/WhoAmI", "Unauthenticated"],
    ]);
    expect(coreRpcs(again.id)).toEqual([]);
  });

  it("accepts our JWTs (IssueToken) as well as API keys", async () => {
    const issued = await post("/v1/tokens", {});
    expect(issued.res.status).toBe(200);
    const token = issued.body.token.accessToken as string;
    const who = await call("/v1/whoami", { key: token });
    expect(who.res.status).toBe(200);
    expect(who.body).toMatchObject({
      principal: expect.stringMatching(/^key:/),
      roles: ["ROLE_ADMIN"],
      credentialKind: "CREDENTIAL_KIND_JWT",
    });
    expect(Date.parse(who.body.expiresAt)).toBeGreaterThan(Date.now());
  });

  it("answers 403 itself for a role the RPC does not allow", async () => {
    const created = await post("/v1/api-keys", { name: "auditor", roles: ["ROLE_AUDITOR"] });
    expect(created.res.status).toBe(200);
    const denied = await post(
      "/v1/wallets",
      { label: "no", purpose: "WALLET_PURPOSE_PAYOUT" },
      created.body.key,
    );
    expect(denied.res.status).toBe(403);
    expect(reason(denied.body)).toBe("auth.permission_denied");
    expect(denied.body.details[0].metadata.required).toBe("ROLE_ADMIN,ROLE_OPERATOR");
    await marker();
    expect(coreRpcs(denied.id).map((l) => l.method)).toEqual(["tronpay.v1.AdminService/WhoAmI"]);
  });

  it("stops a revoked API key within the cache TTL by itself (core refuses it at once)", async () => {
    const created = await post("/v1/api-keys", { name: "to revoke", roles: ["ROLE_OPERATOR"] });
    const key = created.body.key as string;
    expect((await call("/v1/payouts", { key })).res.status).toBe(200);
    const revoked = await post(`/v1/api-keys/${created.body.apiKey.id}:revoke`, {
      reason: "test",
    });
    expect(revoked.res.status).toBe(200);
    // The edge still has the key's answer cached: core, checking again, refuses it.
    const atOnce = await call("/v1/payouts", { key });
    expect(atOnce.res.status).toBe(401);
    await new Promise((r) => setTimeout(r, AUTH_CACHE_TTL_SEC * 1000 + 200));
    // Past the TTL the edge asks core again, learns the key is revoked, and keeps that.
    const later = await call("/v1/payouts", { key });
    const again = await call("/v1/payouts", { key });
    expect([later.res.status, again.res.status]).toEqual([401, 401]);
    expect(reason(later.body)).toBe("auth.unauthenticated");
    await marker();
    expect(coreRpcs(atOnce.id).map((l) => [l.method, l.code])).toEqual([
      ["tronpay.v1.PayoutService/ListPayouts", "Unauthenticated"],
    ]);
    expect(coreRpcs(later.id).map((l) => l.method)).toEqual(["tronpay.v1.AdminService/WhoAmI"]);
    expect(coreRpcs(again.id)).toEqual([]);
  });

  it("refuses a pass-through gRPC call without credentials itself", async () => {
    const id = `t-${randomUUID()}`;
    const tag: Interceptor = (next) => (req) => {
      req.header.set("x-request-id", id);
      return next(req);
    };
    const client = createClient(
      PayoutService,
      createGrpcTransport({ baseUrl: edge.url, interceptors: [tag] }),
    );
    const err = await client.getPayout({ id: "p_1" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    expect(reasonOf(err)).toBe("auth.unauthenticated");
    await marker();
    expect(coreRpcs(id)).toEqual([]);
  });
});

describe("rate limits at the edge", () => {
  it("counts reads per principal and method, answers 429 with Retry-After, recovers after the window", async () => {
    const path = "/v1/payouts:pauseState";
    const remaining: string[] = [];
    for (let i = 0; i < READS_PER_WINDOW; i++) {
      const { res } = await call(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit-limit")).toBe(String(READS_PER_WINDOW));
      const reset = Number(res.headers.get("ratelimit-reset"));
      expect(reset).toBeGreaterThanOrEqual(1);
      expect(reset).toBeLessThanOrEqual(WINDOW_SEC);
      remaining.push(res.headers.get("ratelimit-remaining") ?? "");
    }
    expect(remaining).toEqual(["2", "1", "0"]);
    const over = await call(path);
    expect(over.res.status).toBe(429);
    const retryAfter = Number(over.res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SEC);
    expect(over.res.headers.get("ratelimit-limit")).toBe(String(READS_PER_WINDOW));
    expect(over.res.headers.get("ratelimit-remaining")).toBe("0");
    expect(over.res.headers.get("ratelimit-reset")).toBe(String(retryAfter));
    expect(reason(over.body)).toBe("auth.rate_limited");
    expect(over.body.details.map((d: Json) => d["@type"])).toContain(
      "type.googleapis.com/google.rpc.RetryInfo",
    );
    // Another method has its own budget.
    expect((await call("/v1/payouts")).res.status).toBe(200);
    await marker();
    expect(coreRpcs(over.id)).toEqual([]);
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
    const after = await call(path);
    expect(after.res.status).toBe(200);
    expect(after.res.headers.get("ratelimit-remaining")).toBe(String(READS_PER_WINDOW - 1));
  }, 30_000);
});

describe("REST error bodies", () => {
  it("list every field violation of a refused batch, with all of core's details", async () => {
    const wallet = await post("/v1/wallets", { label: "batch", purpose: "WALLET_PURPOSE_PAYOUT" });
    expect(wallet.res.status).toBe(200);
    const item = (n: number, over: Json) => ({
      itemReference: `item-${n}`,
      walletId: wallet.body.wallet.id,
      recipientAddress: newTestAccount().address,
      amount: { asset: "ASSET_TRX", value: "1" },
      route: "PAYOUT_ROUTE_V0",
      ...over,
    });
    const refused = await post("/v1/payout-batches", {
      items: [
        item(0, { recipientAddress: "T-not-an-address" }),
        item(1, {}),
        item(2, { amount: { asset: "ASSET_TRX", value: "1.2345678" } }),
        item(3, { amount: { asset: "ASSET_TRX", value: "-5" } }),
      ],
    });
    expect(refused.res.status).toBe(400);
    const types = refused.body.details.map((d: Json) => d["@type"]);
    expect(types).toEqual([
      "type.googleapis.com/google.rpc.ErrorInfo",
      "type.googleapis.com/tronpay.v1.PayoutBatchItemErrors",
      "type.googleapis.com/google.rpc.BadRequest",
    ]);
    const [info, items, badRequest] = refused.body.details as Json[];
    expect(info).toMatchObject({ reason: "payout.batch_invalid", domain: "tronpay" });
    expect(info?.metadata.count).toBe("3");
    expect(items?.errors.map((e: Json) => e.index ?? 0)).toEqual([0, 2, 3]);
    const fields = badRequest?.fieldViolations.map((v: Json) => v.field) as string[];
    expect(fields).toHaveLength(3);
    expect(fields[0]).toMatch(/^items\[0\]\.recipient/);
    expect(fields[1]).toMatch(/^items\[2\]\.amount/);
    expect(fields[2]).toMatch(/^items\[3\]\.amount/);
    // Each violation says why, in the same words as the item errors.
    expect(badRequest?.fieldViolations.map((v: Json) => v.description)).toEqual(
      items?.errors.map((e: Json) => e.message),
    );
  });
});
