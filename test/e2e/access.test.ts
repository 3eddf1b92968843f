import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../src/gen/tronpay/v1/admin_pb.js";
import { type Stack, startStack } from "../helpers/stack.js";

/** Core as started for real: JWTs, rate limits on Redis, request logs and metrics. */
let stack: Stack;
let adminUrl: string;

beforeAll(async () => {
  stack = await startStack({
    coreEnv: {
      REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
      TRONPAY_REDIS_KEY_PREFIX: `test:${process.pid}:${Date.now()}:`,
      TRONPAY_RATE_WRITE_PER_MIN: "5",
    },
  });
  adminUrl = String((await stack.core.waitForLog("core ready")).adminUrl);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("core access and operability", () => {
  it("issues a JWT that core then accepts, and logs the RPC with a request id", async () => {
    const { token } = await stack.client(AdminService).issueToken({ idempotencyKey: "t1" });
    const jwt = stack.client(AdminService, token?.accessToken);
    await jwt.getPauseState({}, { headers: { "x-request-id": "e2e-req-1" } });
    // The process's stdout reaches us a little after the answer.
    const find = () =>
      stack.core.lines.map((l) => JSON.parse(l)).find((l) => l.request_id === "e2e-req-1");
    for (let i = 0; i < 50 && !find(); i++) await new Promise((r) => setTimeout(r, 100));
    const line = find();
    expect(line).toMatchObject({
      msg: "rpc",
      method: "tronpay.v1.AdminService/GetPauseState",
      code: "ok",
      principal: expect.stringMatching(/^key:/),
    });
  });

  it("limits writes per principal with ResourceExhausted and a retry-after", async () => {
    const admin = stack.client(AdminService);
    let refused: ConnectError | undefined;
    for (let i = 0; i < 8 && !refused; i++) {
      await admin.resumePayouts({ idempotencyKey: `r${i}` }).catch((e: unknown) => {
        refused = ConnectError.from(e);
      });
    }
    expect(refused?.code).toBe(Code.ResourceExhausted);
    expect(Number(refused?.metadata.get("retry-after"))).toBeGreaterThan(0);
  });

  it("serves metrics and readiness on the admin port", async () => {
    const text = await (await fetch(`${adminUrl}/metrics`)).text();
    expect(text).toContain(
      'tronpay_rpc_total{method="tronpay.v1.AdminService/IssueToken",code="ok"}',
    );
    expect(text).toMatch(/tronpay_rate_limited_total\{kind="write"\} [1-9]/);
    expect(text).toContain("tronpay_payouts");
    expect(text).toMatch(/tronpay_node_reachable\{node="[^"]+"\} 1/);
    const ready = await fetch(`${adminUrl}/readyz`);
    expect(await ready.json()).toEqual({ ready: true, failing: [] });
  });
});
