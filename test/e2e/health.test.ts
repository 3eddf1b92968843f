import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { checkGrpc } from "../../deploy/healthcheck.mjs";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../src/gen/health/v1/health_pb.js";
import { PayoutService, PayoutState } from "../../src/gen/tronpay/v1/payout_pb.js";
import { publicServices } from "../../src/shared/api.js";
import { newTestAccount } from "../devnet/helpers.js";
import { fundedWallet, usdtBalance, usdtPayout, waitForPayout } from "../helpers/payouts.js";
import { type Stack, startStack } from "../helpers/stack.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BUF = join(ROOT, "node_modules/.bin/buf");
const run = promisify(execFile);

/** Core as started for real, probed and reflected without credentials. */
let stack: Stack;
let adminUrl: string;

beforeAll(async () => {
  stack = await startStack({
    coreEnv: {
      REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
      TRONPAY_REDIS_KEY_PREFIX: `test:${process.pid}:${Date.now()}:`,
    },
  });
  adminUrl = String((await stack.core.waitForLog("core ready")).adminUrl);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** Health over a transport that sends no credentials (as probes do). */
function health(
  transport: (o: { baseUrl: string; httpVersion: "2" }) => Transport = createGrpcTransport,
) {
  return createClient(Health, transport({ baseUrl: stack.coreUrl, httpVersion: "2" }));
}

/** Polls `check` every 200 ms until it returns true. */
async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const statusOf = async (service: string) => (await health().check({ service })).status;
const logged = (msg: string) => stack.core.lines.filter((l) => l.includes(`"msg":"${msg}`)).length;
const journalEntries = () =>
  readFileSync(join(stack.signerEnv.TRONPAY_SIGNER_DATA_DIR as string, "journal.log"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { operationId: string; txId: string });

describe("grpc.health.v1.Health on core", () => {
  it("answers Check without credentials for the server and each service, over all three protocols", async () => {
    // The node counts once core has reached it.
    await until("SERVING", async () => (await statusOf("")) === Status.SERVING, 30_000);
    for (const transport of [createConnectTransport, createGrpcWebTransport]) {
      expect((await health(transport).check({})).status).toBe(Status.SERVING);
    }
    for (const s of publicServices)
      expect(await statusOf(s.typeName), s.typeName).toBe(Status.SERVING);
    expect(await statusOf("grpc.health.v1.Health")).toBe(Status.SERVING);
    const err = await health()
      .check({ service: "tronpay.v1.NoSuchService" })
      .catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.NotFound);
  });
});

describe("server reflection", () => {
  const curl = (...args: string[]) =>
    run(BUF, ["curl", "--reflect", "--protocol", "grpc", "--http2-prior-knowledge", ...args], {
      timeout: 60_000,
    });

  it("lets buf curl list the services without our protos", async () => {
    for (const version of ["grpc-v1", "grpc-v1alpha"]) {
      const { stdout } = await curl(
        "--reflect-protocol",
        version,
        "--list-services",
        stack.coreUrl,
      );
      const listed = stdout.trim().split("\n");
      for (const s of publicServices) expect(listed, version).toContain(s.typeName);
      expect(listed).toContain("grpc.health.v1.Health");
      expect(listed).toContain("grpc.reflection.v1.ServerReflection");
    }
    const { stdout } = await curl("--list-methods", stack.coreUrl);
    expect(stdout.trim().split("\n")).toContain("tronpay.v1.PayoutService/CreatePayout");
  });

  it("lets buf curl call a method, with an API key, from reflected descriptors", async () => {
    const { stdout } = await curl(
      "-H",
      `authorization: Bearer ${stack.adminKey}`,
      "-d",
      "{}",
      `${stack.coreUrl}/tronpay.v1.NetworkService/GetStatus`,
    );
    const status = JSON.parse(stdout) as Record<string, unknown>;
    expect(status.usdtContract).toBe(stack.net.devnet.usdtAddress);
    expect(status.nodeUrl).toBe(stack.net.devnet.url);
    expect(Number(status.headBlockNumber)).toBeGreaterThan(0);
    // Without the key, reflection still works but our API does not.
    const refused = await curl(
      "-d",
      "{}",
      `${stack.coreUrl}/tronpay.v1.NetworkService/GetStatus`,
    ).catch((e: { stderr?: string }) => e);
    expect(String((refused as { stderr?: string }).stderr)).toMatch(/unauthenticated/i);
  });
});

describe("while every TRON node's breaker is open", () => {
  it("pauses signing, reports NOT_SERVING, then resumes and confirms the queued payout exactly once", async () => {
    const wallet = await fundedWallet(stack);
    const to = newTestAccount().address;
    await until("SERVING", async () => (await statusOf("")) === Status.SERVING, 30_000);

    // A Watch stream (gRPC, no credentials) sees the service go down and come back.
    const watching = new AbortController();
    const watched: Status[] = [];
    const watch = (async () => {
      const stream = health().watch(
        { service: "tronpay.v1.PayoutService" },
        { signal: watching.signal },
      );
      for await (const { status } of stream) watched.push(status);
    })().catch(() => {});
    await until("the first Watch message", async () => watched.length > 0, 10_000);

    stack.net.devnet.admin.setFaults({ errorRate: 1 });
    await stack.core.waitForLog(
      "signing paused: every TRON node's circuit breaker is open",
      60_000,
    );
    await until("NOT_SERVING", async () => (await statusOf("")) === Status.NOT_SERVING, 30_000);
    expect(await statusOf("tronpay.v1.PayoutService")).toBe(Status.NOT_SERVING);
    expect(await statusOf("tronpay.v1.NetworkService")).toBe(Status.NOT_SERVING);
    // What does not need the node still serves, and so does the process (liveness).
    expect(await statusOf("tronpay.v1.PayeeService")).toBe(Status.SERVING);
    expect(await statusOf("grpc.health.v1.Health")).toBe(Status.SERVING);
    // The deployments' checks: compose and liveness ask for the process, readiness for "".
    const core = new URL(stack.coreUrl).host;
    expect(await checkGrpc(core)).toBe(false);
    expect(await checkGrpc(core, 3_000, "grpc.health.v1.Health")).toBe(true);
    const ready = await fetch(`${adminUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, failing: ["node"] });

    const signedBefore = journalEntries().length;
    const { payout } = await stack
      .client(PayoutService)
      .createPayout(usdtPayout("breaker-1", wallet.id, to, "7.25"));
    const id = payout?.id ?? "";
    // Past the breaker's half-open delay (10 s): a probe fails and the breaker opens again.
    await new Promise((r) => setTimeout(r, 13_000));
    expect(journalEntries().length).toBe(signedBefore);
    expect((await stack.client(PayoutService).getPayout({ id })).payout?.state).toBe(
      PayoutState.QUEUED,
    );

    stack.net.devnet.admin.setFaults({ errorRate: 0 });
    await stack.core.waitForLog("signing resumed: a TRON node answers again", 60_000);
    const done = await waitForPayout(stack, id, 120_000);
    expect(PayoutState[done.state]).toBe("CONFIRMED");
    await until("SERVING again", async () => (await statusOf("")) === Status.SERVING, 30_000);
    expect((await fetch(`${adminUrl}/readyz`)).status).toBe(200);
    expect(await checkGrpc(core)).toBe(true);
    await until(
      "Watch to see SERVING again",
      async () => watched.at(-1) === Status.SERVING,
      10_000,
    );
    watching.abort();
    await watch;
    expect(watched[0]).toBe(Status.SERVING);
    expect(watched).toContain(Status.NOT_SERVING);

    // Exactly once: one signature, one stored attempt, the amount received once.
    expect(journalEntries().filter((e) => e.operationId === id)).toHaveLength(1);
    expect(journalEntries().length).toBe(signedBefore + 1);
    const attempts = await stack.db.pool.oneFirst(
      sql.type(
        z.object({ n: z.number() }),
      )`SELECT count(*)::int AS n FROM attempts WHERE operation_id = ${id}`,
    );
    expect(attempts).toBe(1);
    expect(await usdtBalance(stack, to)).toBe(7_250_000n);

    // The pause and the resume are logged and audited once each.
    expect(logged("signing paused")).toBe(1);
    expect(logged("signing resumed")).toBe(1);
    const actions = await stack.db.pool.anyFirst(
      sql.type(z.object({ action: z.string() }))`
        SELECT action FROM audit_log WHERE action LIKE 'signing.%' ORDER BY seq`,
    );
    expect(actions).toEqual(["signing.paused", "signing.resumed"]);
  });
});
