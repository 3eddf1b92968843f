import { create, toBinary } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { compileErrors, validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEdge } from "../../src/edge/main.js";
import {
  type CancelPayoutRequest,
  CancelPayoutRequestSchema,
  type GetPayoutRequest,
  GetPayoutRequestSchema,
  PayoutService,
} from "../../src/gen/tronpay/v1/payout_pb.js";
import { httpRuleOf, publicServices } from "../../src/shared/api.js";
import { createLogger } from "../../src/shared/log.js";
import { newTestAccount } from "../devnet/helpers.js";
import { type Stack, startStack } from "../helpers/stack.js";

let stack: Stack;
let edge: Awaited<ReturnType<typeof runEdge>>;
let walletId = "";
let payoutId = "";
const MAX_BODY = 64 * 1024;

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions.
type Json = Record<string, any>;

function api(path: string, init: RequestInit & { key?: string | null } = {}) {
  const headers = new Headers(init.headers);
  const key = init.key === undefined ? stack.adminKey : init.key;
  if (key !== null) headers.set("authorization", `Bearer ${key}`);
  if (init.body !== undefined && !headers.has("content-type")) {
    headers.set("content-type", "application/json");
  }
  return fetch(`${edge.url}${path}`, { ...init, headers });
}

async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json;
}

function reasonIn(body: Json): string | undefined {
  return body.details?.[0]?.reason;
}

beforeAll(async () => {
  stack = await startStack();
  const log = createLogger({ name: "edge", level: "silent" });
  edge = await runEdge(
    [],
    {
      TRONPAY_CORE_URL: stack.coreUrl,
      TRONPAY_EDGE_HOST: "127.0.0.1",
      TRONPAY_EDGE_PORT: "0",
      TRONPAY_EDGE_MAX_BODY_BYTES: String(MAX_BODY),
    },
    { log },
  );
}, 90_000);

afterAll(async () => {
  await edge?.stop();
  await stack?.stop();
});

describe("REST through the edge", () => {
  it("creates a wallet from a JSON body with the Idempotency-Key header", async () => {
    const res = await api("/v1/wallets", {
      method: "POST",
      headers: { "idempotency-key": "wallet-1" },
      body: JSON.stringify({ label: "payouts", purpose: "WALLET_PURPOSE_PAYOUT" }),
    });
    const body = await json(res);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(body.wallet.address).toMatch(/^T[1-9A-HJ-NP-Za-km-z]{33}$/);
    // Left unfunded: its payouts stay QUEUED or HELD (never sent), so the list filter below
    // sees them and the batch below stays open while it is watched.
    walletId = body.wallet.id;
  });

  it("creates a payout once per Idempotency-Key and reads it back by path variable", async () => {
    const request = {
      walletId,
      recipientAddress: newTestAccount().address,
      amount: { asset: "ASSET_USDT", value: "1.5" },
      route: "PAYOUT_ROUTE_V0",
    };
    const send = () =>
      api("/v1/payouts", {
        method: "POST",
        headers: { "idempotency-key": "payout-1" },
        body: JSON.stringify(request),
      });
    const first = await json(await send());
    const again = await json(await send());
    expect(first.payout.state).toBe("PAYOUT_STATE_QUEUED");
    expect(again.payout.id).toBe(first.payout.id);
    payoutId = first.payout.id;
    const read = await api(`/v1/payouts/${encodeURIComponent(payoutId)}`);
    expect(read.status).toBe(200);
    const got = await json(read);
    expect(got.payout.id).toBe(payoutId);
    expect(got.payout.amount).toEqual({ asset: "ASSET_USDT", value: "1.5" });
  });

  it("lists payouts with repeated enum and nested query parameters", async () => {
    const res = await api(
      "/v1/payouts?states=PAYOUT_STATE_QUEUED&states=PAYOUT_STATE_HELD&page.page_size=5",
    );
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.payouts.map((p: Json) => p.id)).toContain(payoutId);
    // JSON names work as well as proto names.
    const none = await json(await api("/v1/payouts?states=PAYOUT_STATE_CONFIRMED&page.pageSize=5"));
    expect(none.payouts ?? []).toEqual([]);
  });
});

describe("REST errors as google.rpc.Status JSON", () => {
  it("answers 400, not 500, for NUL bytes and undeclared enum numbers, and 405 for GET on :cancel", async () => {
    for (const path of [
      "/v1/payouts/po_x%00",
      "/v1/payouts?states=99",
      "/v1/payouts?client_reference=a%00b",
    ]) {
      const res = await api(path);
      expect(res.status, path).toBe(400);
      expect(reasonIn(await json(res)), path).toBe("request.invalid");
    }
    const cancel = await api(`/v1/payouts/${encodeURIComponent(payoutId)}:cancel`);
    expect(cancel.status).toBe(405);
    expect(cancel.headers.get("allow")).toBe("POST");
  });

  it("answers 404 for an unknown path", async () => {
    const res = await api("/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(reasonIn(await json(res))).toBe("request.not_found");
  });

  it("answers 405 with Allow for a known path and the wrong method", async () => {
    const res = await api("/v1/payouts", { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, POST");
    expect(reasonIn(await json(res))).toBe("request.method_not_allowed");
  });

  it("answers 413 for a body over the cap", async () => {
    const res = await api("/v1/wallets", {
      method: "POST",
      body: JSON.stringify({ label: "x".repeat(MAX_BODY) }),
    });
    expect(res.status).toBe(413);
    expect(reasonIn(await json(res))).toBe("request.too_large");
  });

  it("answers 415 for a body that is not JSON", async () => {
    const res = await api("/v1/wallets", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "label=x",
    });
    expect(res.status).toBe(415);
    expect(reasonIn(await json(res))).toBe("request.unsupported_media_type");
  });

  it("answers 400 naming where malformed JSON fails, and for an unknown field", async () => {
    const bad = await api("/v1/wallets", { method: "POST", body: '{"label": "x",\n "purpose": }' });
    expect(bad.status).toBe(400);
    const body = await json(bad);
    expect(reasonIn(body)).toBe("request.invalid");
    expect(body.details[0].metadata.line).toBe("2");
    const unknown = await api("/v1/wallets", {
      method: "POST",
      body: JSON.stringify({ labl: "x" }),
    });
    expect(unknown.status).toBe(400);
    expect((await json(unknown)).message).toMatch(/labl/);
  });

  it("answers 401 without credentials and 403 for a role the RPC does not allow", async () => {
    const anonymous = await api("/v1/payouts", { key: null });
    expect(anonymous.status).toBe(401);
    expect(reasonIn(await json(anonymous))).toBe("auth.unauthenticated");
    const created = await json(
      await api("/v1/api-keys", {
        method: "POST",
        headers: { "idempotency-key": "key-auditor" },
        body: JSON.stringify({ name: "auditor", roles: ["ROLE_AUDITOR"] }),
      }),
    );
    const denied = await api("/v1/wallets", {
      method: "POST",
      key: created.key,
      headers: { "idempotency-key": "wallet-denied" },
      body: JSON.stringify({ label: "no", purpose: "WALLET_PURPOSE_PAYOUT" }),
    });
    expect(denied.status).toBe(403);
    const body = await json(denied);
    expect(reasonIn(body)).toBe("auth.permission_denied");
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts|127\.0\.0\.1/);
  });
});

describe("server streams", () => {
  let batchId = "";
  beforeAll(async () => {
    const res = await api("/v1/payout-batches", {
      method: "POST",
      headers: { "idempotency-key": "batch-1" },
      body: JSON.stringify({
        items: [1, 2].map((n) => ({
          itemReference: `item-${n}`,
          walletId,
          recipientAddress: newTestAccount().address,
          amount: { asset: "ASSET_TRX", value: "1" },
          route: "PAYOUT_ROUTE_V0",
        })),
      }),
    });
    expect(res.status).toBe(200);
    batchId = (await json(res)).batch.id;
  });

  async function firstChunk(accept?: string): Promise<{ type: string | null; text: string }> {
    const abort = new AbortController();
    const res = await api(`/v1/payout-batches/${batchId}:watch`, {
      signal: abort.signal,
      headers: accept ? { accept } : {},
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = "";
    while (!text.includes("\n")) text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    return { type: res.headers.get("content-type"), text };
  }

  it("streams WatchPayoutBatch as newline-delimited JSON", async () => {
    const { type, text } = await firstChunk();
    expect(type).toBe("application/x-ndjson");
    const line = JSON.parse(text.split("\n")[0] as string) as Json;
    expect(line.result.progress.batchId).toBe(batchId);
    expect(line.result.progress.itemCount).toBe(2);
  });

  it("streams WatchPayoutBatch as Server-Sent Events when asked", async () => {
    const { type, text } = await firstChunk("text/event-stream");
    expect(type).toMatch(/^text\/event-stream/);
    expect(text.startsWith("data: ")).toBe(true);
    const event = JSON.parse(text.slice(6).split("\n")[0] as string) as Json;
    expect(event.result.progress.batchId).toBe(batchId);
  });
});

describe("RPC pass-through", () => {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${stack.adminKey}`);
    return next(req);
  };

  it("passes a Connect call (HTTP/1.1) through the edge to core", async () => {
    const client: Client<typeof PayoutService> = createClient(
      PayoutService,
      createConnectTransport({ httpVersion: "1.1", baseUrl: edge.url, interceptors: [auth] }),
    );
    const { payout } = await client.getPayout({ id: payoutId });
    expect(payout?.id).toBe(payoutId);
  });

  it("passes a gRPC call (HTTP/2, trailers) through the edge to core", async () => {
    const client = createClient(
      PayoutService,
      createGrpcTransport({ baseUrl: edge.url, interceptors: [auth] }),
    );
    const { payout } = await client.getPayout({ id: payoutId });
    expect(payout?.id).toBe(payoutId);
    await expect(client.getPayout({ id: "nope" })).rejects.toThrow();
  });

  it("marks every pass-through answer no-store and nosniff, like REST", async () => {
    const call = (key: string | null) =>
      api("/tronpay.v1.PayoutService/GetPayout", {
        method: "POST",
        key,
        headers: { "connect-protocol-version": "1" },
        body: JSON.stringify({ id: payoutId }),
      });
    const rest = await api(`/v1/payouts/${encodeURIComponent(payoutId)}`);
    for (const res of [await call(stack.adminKey), await call(null), rest]) {
      expect(res.headers.get("cache-control"), res.url).toBe("no-store");
      expect(res.headers.get("x-content-type-options"), res.url).toBe("nosniff");
    }
  });

  it("answers @grpc/grpc-js clients with the refusal's code, not 13", async () => {
    const GetPayout = PayoutService.method.getPayout;
    const client = new grpc.Client(new URL(edge.url).host, grpc.credentials.createInsecure());
    const call = (key: string | undefined, id: string) =>
      new Promise<{ code: number; details: string }>((resolve) => {
        const metadata = new grpc.Metadata();
        if (key !== undefined) metadata.set("authorization", `Bearer ${key}`);
        client.makeUnaryRequest(
          `/${PayoutService.typeName}/${GetPayout.name}`,
          (m: GetPayoutRequest) => Buffer.from(toBinary(GetPayoutRequestSchema, m)),
          (b: Buffer) => b,
          create(GetPayoutRequestSchema, { id }),
          metadata,
          (err) => resolve({ code: err?.code ?? 0, details: err?.details ?? "" }),
        );
      });
    const created = await json(
      await api("/v1/api-keys", {
        method: "POST",
        headers: { "idempotency-key": "key-auditor-grpc-js" },
        body: JSON.stringify({ name: "auditor grpc-js", roles: ["ROLE_AUDITOR"] }),
      }),
    );
    const denied = await new Promise<number>((resolve) => {
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${created.key}`);
      client.makeUnaryRequest(
        `/${PayoutService.typeName}/${PayoutService.method.cancelPayout.name}`,
        (m: CancelPayoutRequest) => Buffer.from(toBinary(CancelPayoutRequestSchema, m)),
        (b: Buffer) => b,
        create(CancelPayoutRequestSchema, { id: payoutId, idempotencyKey: "cancel-denied" }),
        metadata,
        (err) => resolve(err?.code ?? 0),
      );
    });
    try {
      // Refused by the edge itself: a role the RPC does not allow.
      expect(denied).toBe(grpc.status.PERMISSION_DENIED);
      // Refused by the edge itself: no credentials, then a malformed one.
      expect(await call(undefined, payoutId)).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      expect((await call("tp_x", payoutId)).code).toBe(grpc.status.UNAUTHENTICATED);
      // Refused by core and passed through.
      expect((await call(stack.adminKey, "po_nope")).code).toBe(grpc.status.NOT_FOUND);
      expect((await call(stack.adminKey, payoutId)).code).toBe(grpc.status.OK);
    } finally {
      client.close();
    }
  });
});

describe("documents", () => {
  it("serves an OpenAPI 3.1 document that validates and has every public RPC with an http rule", async () => {
    const res = await fetch(`${edge.url}/openapi.json`);
    const doc = await json(res);
    expect(doc.openapi).toBe("3.1.0");
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
    const ids = new Set(
      Object.values(doc.paths as Record<string, Record<string, Json>>).flatMap((ops) =>
        Object.values(ops).map((op) => op.operationId as string),
      ),
    );
    for (const service of publicServices) {
      for (const method of service.methods) {
        if (httpRuleOf(method)) expect(ids).toContain(`${service.name}_${method.name}`);
      }
    }
    expect(doc.paths["/v1/payouts"].post["x-tronpay-roles"]).toContain("ROLE_ADMIN");
  });

  it("serves /docs as self-contained HTML with a strict CSP", async () => {
    const res = await fetch(`${edge.url}/docs`);
    const html = await res.text();
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    expect(html).toContain("/v1/payouts/{id}");
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<script/i);
  });

  it("answers the probes", async () => {
    expect((await fetch(`${edge.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${edge.url}/readyz`)).status).toBe(200);
  });
});
