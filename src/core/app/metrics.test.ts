import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../shared/log.js";
import { NodeClient } from "../chain/node-client.js";
import { createMetrics, nodeObserver } from "./metrics.js";
import { cached } from "./metrics-scrape.js";

const log = createLogger({ name: "test", level: "silent" });

describe("cached scrape sources", () => {
  it("reuses a result within its period, shares a load in flight, and reloads after", async () => {
    let now = 0;
    let loads = 0;
    const load = cached(
      5_000,
      async () => {
        loads++;
        await new Promise((r) => setTimeout(r, 10));
        return loads;
      },
      () => now,
    );
    expect(await Promise.all([load(), load(), load()])).toEqual([1, 1, 1]);
    now = 4_999;
    expect(await load()).toBe(1);
    now = 5_000;
    expect(await load()).toBe(2);
    expect(loads).toBe(2);
  });

  it("does not keep a failure", async () => {
    let fail = true;
    const load = cached(60_000, async () => {
      if (fail) throw new Error("database down");
      return "rows";
    });
    await expect(load()).rejects.toThrow("database down");
    fail = false;
    expect(await load()).toBe("rows");
  });
});

describe("node call metrics", () => {
  let server: Server;
  let port: number;
  let status = 200;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.statusCode = status;
      res.setHeader("content-type", "application/json");
      res.end(status === 200 ? '{"blockID":"00"}' : "busy");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("counts answers and failures per host:port, opens the breaker gauge, and hides credentials", async () => {
    const metrics = createMetrics();
    const secret = randomBytes(8).toString("hex");
    const client = new NodeClient({
      urls: [`http://ops:${secret}@127.0.0.1:${port}/`],
      timeoutMs: 5_000,
      log,
      fetch: globalThis.fetch,
      observer: nodeObserver(metrics),
    });
    const node = `127.0.0.1:${port}`;
    await client.read("/wallet/getnowblock");
    status = 503;
    // Five consecutive failures open the breaker; the calls after it are refused unsent.
    for (let i = 0; i < 8; i++) await client.read("/wallet/getnowblock").catch(() => {});
    const text = await metrics.registry.metrics();
    const value = (series: string) =>
      Number(
        text
          .split("\n")
          .find((l) => l.startsWith(`${series} `))
          ?.split(" ")[1],
      );
    expect(
      value(`tronpay_chain_node_request_duration_seconds_count{node="${node}",outcome="ok"}`),
    ).toBe(1);
    // Each read is tried twice (one retry): failures until the breaker opened, then refusals.
    const transport = value(`tronpay_chain_node_errors_total{node="${node}",outcome="transport"}`);
    const refused = value(`tronpay_chain_node_errors_total{node="${node}",outcome="circuit_open"}`);
    expect(transport).toBe(5);
    expect(transport + refused).toBe(16);
    expect(
      value(
        `tronpay_chain_node_request_duration_seconds_count{node="${node}",outcome="transport"}`,
      ),
    ).toBe(5);
    expect(value(`tronpay_chain_node_up{node="${node}"}`)).toBe(0);
    expect(value(`tronpay_chain_breaker_open{node="${node}"}`)).toBe(1);
    expect(text).not.toContain(secret);
  });
});
