import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { reasonOf } from "./errors.js";
import { createLogger } from "./log.js";
import { connectRedis, createRateLimits, type RateLimitSettings } from "./rate-limit.js";

const log = createLogger({ name: "test", level: "silent" });
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const clients: { disconnect(): void }[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});

/** Limits on Redis at `redisUrl`, connected (or given up on) before the first call. */
async function settings(redisUrl: string, over: Partial<RateLimitSettings> = {}) {
  const redis = connectRedis(redisUrl, log);
  clients.push(redis);
  // Without waiting, the first calls would fail fast and be counted by the memory insurance.
  await new Promise((r) => {
    redis.once("ready", r);
    redis.once("error", r);
  });
  return {
    readPerMin: 5,
    writePerMin: 2,
    authFailuresPerMin: 3,
    redis,
    keyPrefix: `test:${randomUUID()}:`,
    ...over,
  };
}

async function refusal(p: Promise<unknown>): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  return err as ConnectError;
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe("rate limits", () => {
  it("refuses writes sooner than reads, per principal and method, with a retry-after", async () => {
    const rejected: string[] = [];
    const limits = createRateLimits(
      await settings(REDIS_URL, { onReject: (k) => rejected.push(k) }),
    );
    const first = await limits.consume("key:a", "S/Write", true);
    expect(first).toMatchObject({ limit: 2, remaining: 1, windowSec: 60 });
    expect(first.resetMs).toBeGreaterThan(0);
    expect(first.resetMs).toBeLessThanOrEqual(60_000);
    expect((await limits.consume("key:a", "S/Write", true)).remaining).toBe(0);
    const err = await refusal(limits.consume("key:a", "S/Write", true));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(reasonOf(err)).toBe("auth.rate_limited");
    expect(Number(err.metadata.get("retry-after"))).toBeGreaterThan(0);
    // The standard detail too, for clients that read google.rpc.RetryInfo.
    const delay = err.findDetails(RetryInfoSchema)[0]?.retryDelay;
    expect(Number(delay?.seconds ?? 0) + (delay?.nanos ?? 0) / 1e9).toBeGreaterThan(0);
    // Another principal, and reads of the same principal, have their own budgets.
    await limits.consume("key:b", "S/Write", true);
    for (let i = 0; i < 5; i++) await limits.consume("key:a", "S/Read", false);
    await refusal(limits.consume("key:a", "S/Read", false));
    expect(rejected).toEqual(["write", "read"]);
  });

  it("shares counts through Redis between two limiters with one prefix", async () => {
    const s = await settings(REDIS_URL);
    const a = createRateLimits(s);
    const b = createRateLimits({ ...s });
    await a.consume("key:a", "S/Write", true);
    await b.consume("key:a", "S/Write", true);
    await refusal(a.consume("key:a", "S/Write", true));
  });

  it("recovers once the window has passed", async () => {
    const limits = createRateLimits(await settings(REDIS_URL, { writePerMin: 1, windowSec: 1 }));
    await limits.consume("key:a", "S/W", true);
    const err = await refusal(limits.consume("key:a", "S/W", true));
    expect(Number(err.metadata.get("retry-after"))).toBe(1);
    await new Promise((r) => setTimeout(r, 1_100));
    await limits.consume("key:a", "S/W", true);
  });

  it("still limits from memory when Redis is unreachable", async () => {
    const limits = createRateLimits(await settings(`redis://127.0.0.1:${await closedPort()}`));
    await limits.consume("key:a", "S/Write", true);
    await limits.consume("key:a", "S/Write", true);
    const err = await refusal(limits.consume("key:a", "S/Write", true));
    expect(reasonOf(err)).toBe("auth.rate_limited");
  });

  it("refuses an address after too many failed authentications", async () => {
    const limits = createRateLimits(await settings(REDIS_URL));
    for (let i = 0; i < 3; i++) {
      await limits.checkAuthFailures("10.0.0.1");
      await limits.failedAuth("10.0.0.1");
    }
    await limits.failedAuth("10.0.0.1");
    const err = await refusal(limits.checkAuthFailures("10.0.0.1"));
    expect(err.code).toBe(Code.ResourceExhausted);
    await limits.checkAuthFailures("10.0.0.2");
  });
});
