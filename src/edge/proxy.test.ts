import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PayoutSchema, PayoutService } from "../gen/tronpay/v1/payout_pb.js";
import { AppError, reasonOf, toConnectError } from "../shared/errors.js";
import { binaryUnaryTransport, CoreProxy } from "./proxy.js";

// A stand-in core over real HTTP/2 and the Connect protocol, as connect-node serves it.
const seen: { header?: Headers; timeoutMs?: number; contentType?: string } = {};
let server: http2.Http2Server;
let url = "";
beforeAll(async () => {
  const handler = connectNodeAdapter({
    routes: ({ service }) =>
      service(PayoutService, {
        async getPayout(req, ctx) {
          seen.header = ctx.requestHeader;
          seen.timeoutMs = ctx.timeoutMs();
          seen.contentType = ctx.requestHeader.get("content-type") ?? "";
          if (req.id === "missing")
            throw toConnectError(
              new AppError("payout.not_found", "no payout with that id", {
                metadata: { field: "id" },
              }),
            );
          if (req.id === "slow") await new Promise((r) => setTimeout(r, 2_000));
          return { payout: create(PayoutSchema, { id: req.id, amount: { value: "1.5" } }) };
        },
      }),
  });
  server = http2.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

// Streams are not what this transport carries itself.
const noStreams = createRouterTransport(() => {});

describe("the edge's unary transport to core", () => {
  it("sends binary protobuf with the headers and deadline, and decodes the answer", async () => {
    const proxy = new CoreProxy(url, 0);
    const client = createClient(PayoutService, binaryUnaryTransport(proxy, noStreams));
    const { payout } = await client.getPayout(
      { id: "po_1" },
      { headers: { authorization: "Bearer tp_x", "x-request-id": "r-1" }, timeoutMs: 7_000 },
    );
    expect(payout?.id).toBe("po_1");
    expect(payout?.amount?.value).toBe("1.5");
    expect(seen.contentType).toBe("application/proto");
    expect(seen.header?.get("authorization")).toBe("Bearer tp_x");
    expect(seen.header?.get("x-request-id")).toBe("r-1");
    expect(seen.timeoutMs).toBeGreaterThan(6_000);
    expect(seen.timeoutMs).toBeLessThanOrEqual(7_000);
    proxy.close();
  });

  it("throws core's error with its reason and metadata", async () => {
    const proxy = new CoreProxy(url, 0);
    const client = createClient(PayoutService, binaryUnaryTransport(proxy, noStreams));
    const err = await client.getPayout({ id: "missing" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect(reasonOf(err)).toBe("payout.not_found");
    expect((err as ConnectError).rawMessage).toBe("no payout with that id");
    proxy.close();
  });

  it("answers deadline_exceeded when core does not answer in time, canceled when aborted", async () => {
    const proxy = new CoreProxy(url, 0);
    const client = createClient(PayoutService, binaryUnaryTransport(proxy, noStreams));
    const late = await client.getPayout({ id: "slow" }, { timeoutMs: 100 }).catch((e) => e);
    expect((late as ConnectError).code).toBe(Code.DeadlineExceeded);
    const abort = new AbortController();
    const call = client.getPayout({ id: "slow" }, { signal: abort.signal }).catch((e) => e);
    abort.abort();
    expect(((await call) as ConnectError).code).toBe(Code.Canceled);
    proxy.close();
  });

  it("answers unavailable when core is not there", async () => {
    const proxy = new CoreProxy("http://127.0.0.1:9", 0);
    const client = createClient(PayoutService, binaryUnaryTransport(proxy, noStreams));
    const err = await client.getPayout({ id: "po_1" }).catch((e: unknown) => e);
    expect((err as ConnectError).code).toBe(Code.Unavailable);
    proxy.close();
  });
});
