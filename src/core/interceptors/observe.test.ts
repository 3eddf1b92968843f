import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService, GetPauseStateResponseSchema } from "../../gen/tronpay/v1/admin_pb.js";
import { errorInterceptor } from "../../shared/connect.js";
import { AppError } from "../../shared/errors.js";
import { createLogger } from "../../shared/log.js";
import { createMetrics } from "../app/metrics.js";
import { type AdminHttp, serveAdminHttp } from "../app/ops-http.js";
import { type CoreServer, serveCore } from "../app/server.js";
import { requestIdKey } from "../kernel/context.js";
import { createObserveInterceptor } from "./observe.js";

const lines: Record<string, unknown>[] = [];
const log = createLogger({
  name: "test",
  level: "info",
  destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
});
let server: CoreServer;
let admin: AdminHttp;
let ready = true;
const seenIds: string[] = [];

beforeAll(async () => {
  const metrics = createMetrics();
  metrics.rateLimited.inc({ kind: "write" });
  server = await serveCore({
    host: "127.0.0.1",
    port: 0,
    interceptors: [createObserveInterceptor({ log, metrics }), errorInterceptor],
    routes: (router) =>
      router.service(AdminService, {
        getPauseState: (_req, ctx) => {
          seenIds.push(ctx.values.get(requestIdKey));
          return create(GetPauseStateResponseSchema, {});
        },
        pausePayouts: () => {
          throw new AppError("request.invalid", "no");
        },
        resumePayouts: () => {
          throw new Error("connection to the database lost");
        },
      }),
  });
  admin = await serveAdminHttp({
    host: "127.0.0.1",
    port: 0,
    metrics,
    checks: [
      {
        name: "postgres",
        check: async () => {
          if (!ready) throw new Error("down");
        },
      },
    ],
  });
});

afterAll(async () => {
  await server?.close();
  await admin?.close();
});

const client = () =>
  createClient(AdminService, createConnectTransport({ baseUrl: server.url, httpVersion: "2" }));

describe("observability", () => {
  it("keeps a sane caller request id, replaces a bad one, and logs each RPC with its code", async () => {
    await client().getPauseState({}, { headers: { "x-request-id": "abc-123" } });
    await client().getPauseState({}, { headers: { "x-request-id": "bad id\twith spaces" } });
    expect(seenIds[0]).toBe("abc-123");
    expect(seenIds[1]).toMatch(/^[0-9a-f-]{36}$/);
    const err = await client()
      .pausePayouts({ idempotencyKey: "k", reason: "r" })
      .catch((e) => e);
    expect(ConnectError.from(err).code).toBe(Code.InvalidArgument);
    expect(ConnectError.from(err).metadata.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const rpc = lines.filter((l) => l.msg === "rpc");
    expect(rpc[0]).toMatchObject({ request_id: "abc-123", code: "ok" });
    expect(rpc[0]?.method).toBe("tronpay.v1.AdminService/GetPauseState");
    expect(typeof rpc[0]?.duration_ms).toBe("number");
    expect(rpc[2]).toMatchObject({ code: "InvalidArgument" });
  });

  it("answers an unexpected failure `internal` without its cause, and logs the cause with the request id", async () => {
    const err = ConnectError.from(
      await client()
        .resumePayouts({ idempotencyKey: "k" }, { headers: { "x-request-id": "req-internal-1" } })
        .catch((e) => e),
    );
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).not.toContain("database");
    const failed = lines.find((l) => l.msg === "rpc failed" && l.request_id === "req-internal-1");
    expect(failed).toMatchObject({
      method: "tronpay.v1.AdminService/ResumePayouts",
      code: "Internal",
    });
    expect((failed?.cause as { message?: string })?.message).toBe(
      "connection to the database lost",
    );
  });

  it("serves the RPC series on /metrics and readiness on /readyz", async () => {
    const text = await (await fetch(`${admin.url}/metrics`)).text();
    expect(text).toMatch(
      /tronpay_rpc_total\{method="tronpay.v1.AdminService\/GetPauseState",code="ok"\} 2/,
    );
    expect(text).toMatch(
      /tronpay_rpc_total\{method="tronpay.v1.AdminService\/PausePayouts",code="InvalidArgument"\} 1/,
    );
    expect(text).toContain("tronpay_rpc_duration_seconds_bucket");
    expect(text).toMatch(/tronpay_rate_limited_total\{kind="write"\} 1/);
    expect((await fetch(`${admin.url}/readyz`)).status).toBe(200);
    ready = false;
    const notReady = await fetch(`${admin.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ ready: false, failing: ["postgres"] });
    expect((await fetch(`${admin.url}/livez`)).status).toBe(200);
  });
});
