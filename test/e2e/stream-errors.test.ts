import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEdge } from "../../src/edge/main.js";
import { ExportFormat, PayoutService } from "../../src/gen/tronpay/v1/payout_pb.js";
import { reasonOf } from "../../src/shared/errors.js";
import { createLogger } from "../../src/shared/log.js";
import { waitFor } from "../devnet/helpers.js";
import { type Stack, startStack } from "../helpers/stack.js";

/**
 * Errors raised inside server-streaming RPCs keep their code and reason over Connect, gRPC
 * and REST (through the edge), and core logs the code they ended with.
 */
let stack: Stack;
let edge: Awaited<ReturnType<typeof runEdge>>;

beforeAll(async () => {
  stack = await startStack();
  edge = await runEdge(
    [],
    { TRONPAY_CORE_URL: stack.coreUrl, TRONPAY_EDGE_HOST: "127.0.0.1", TRONPAY_EDGE_PORT: "0" },
    { log: createLogger({ name: "edge", level: "silent" }) },
  );
}, 90_000);

afterAll(async () => {
  await edge?.stop();
  await stack?.stop();
});

function client(protocol: "connect" | "grpc") {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${stack.adminKey}`);
    return next(req);
  };
  const options = { httpVersion: "2" as const, baseUrl: stack.coreUrl, interceptors: [auth] };
  return createClient(
    PayoutService,
    protocol === "grpc" ? createGrpcTransport(options) : createConnectTransport(options),
  );
}

async function drain(stream: AsyncIterable<unknown>): Promise<ConnectError> {
  try {
    for await (const _ of stream) {
      // a refused stream yields nothing
    }
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the stream ended without an error");
}

/** Core's "rpc" log line for `method` with the request id the client sent. */
function rpcLine(method: string, requestId: string) {
  return waitFor(() =>
    stack.core.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === "rpc" && l.method === method && l.request_id === requestId),
  );
}

const cases = [
  {
    rpc: "WatchPayoutBatch",
    call: (c: ReturnType<typeof client>, headers: Record<string, string>) =>
      c.watchPayoutBatch({ id: "pb_does_not_exist" }, { headers }),
    code: Code.NotFound,
    reason: "request.not_found",
  },
  {
    rpc: "ExportPayouts",
    call: (c: ReturnType<typeof client>, headers: Record<string, string>) =>
      c.exportPayouts({ format: ExportFormat.CSV }, { headers }),
    code: Code.InvalidArgument,
    reason: "request.invalid",
  },
];

describe("errors inside server streams", () => {
  for (const protocol of ["connect", "grpc"] as const) {
    for (const c of cases) {
      it(`answers ${c.rpc} ${Code[c.code]} with its reason over ${protocol}, and core logs that code`, async () => {
        const requestId = `stream-${protocol}-${c.rpc}`;
        const err = await drain(c.call(client(protocol), { "x-request-id": requestId }));
        expect(Code[err.code]).toBe(Code[c.code]);
        expect(reasonOf(err)).toBe(c.reason);
        const line = await rpcLine(`tronpay.v1.PayoutService/${c.rpc}`, requestId);
        expect(line.code).toBe(Code[c.code]);
      });
    }
  }

  it("answers them over REST through the edge with their HTTP status and reason", async () => {
    const get = (path: string) =>
      fetch(`${edge.url}${path}`, { headers: { authorization: `Bearer ${stack.adminKey}` } });
    const watch = await get("/v1/payout-batches/pb_does_not_exist:watch");
    expect(watch.status).toBe(404);
    const watchBody = (await watch.json()) as { details?: { reason?: string }[] };
    expect(watchBody.details?.[0]?.reason).toBe("request.not_found");
    const exported = await get("/v1/payouts:export?format=EXPORT_FORMAT_CSV");
    expect(exported.status).toBe(400);
    const exportBody = (await exported.json()) as { details?: { reason?: string }[] };
    expect(exportBody.details?.[0]?.reason).toBe("request.invalid");
  });
});
