import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSender, SendFailed } from "./sender.js";

/** A plain-http receiver on loopback that counts the requests it gets. */
let server: Server;
let port = 0;
let received = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    received++;
    res.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("webhook sender", () => {
  it("refuses at connect time a host name that resolves to loopback, and sends nothing", async () => {
    const send = createSender({
      policy: { allowLoopback: false },
      timeoutMs: 2_000,
      maxBodyBytes: 1024,
    });
    const before = received;
    // https is what the policy lets through without loopback; the name passes the URL check
    // and is refused by the lookup the connection itself uses.
    const failure = await send(`https://localhost:${port}/hook`, {}, "{}").catch((e) => e);
    expect(failure).toBeInstanceOf(SendFailed);
    expect((failure as SendFailed).kind).toBe("destination_refused");
    expect(received).toBe(before);
  });

  it("delivers to the same host name when loopback is allowed", async () => {
    const send = createSender({
      policy: { allowLoopback: true },
      timeoutMs: 2_000,
      maxBodyBytes: 1024,
    });
    const result = await send(`http://localhost:${port}/hook`, {}, "{}");
    expect(result.status).toBe(200);
  });
});
