import http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  type GetPayoutRequest,
  GetPayoutRequestSchema,
  type GetPayoutResponse,
  GetPayoutResponseSchema,
  PayoutService,
  PayoutState,
} from "../../gen/tronpay/v1/payout_pb.js";
import { type CoreServer, serveCore } from "./server.js";

/**
 * gRPC unary calls take the Connect unary path inside core's server (grpc-unary.ts): what
 * gRPC clients see must not change — messages, headers, trailers, errors with details and
 * metadata, deadlines, large messages — and streaming and compressed calls keep working.
 */
let server: CoreServer;
const sessions: Http2SessionManager[] = [];
const grpcClients: grpc.Client[] = [];

beforeAll(async () => {
  server = await serveCore({
    host: "127.0.0.1",
    port: 0,
    interceptors: [],
    routes: (router) =>
      router.service(PayoutService, {
        getPayout: (req, ctx) => {
          ctx.responseHeader.set("x-echo-length", String(req.id.length));
          ctx.responseTrailer.set("x-served-by", "core");
          return { payout: { id: req.id, state: PayoutState.QUEUED } };
        },
        createPayout: (req) => {
          const details = [
            { desc: ErrorInfoSchema, value: { reason: "payout.test_refused", domain: "tronpay" } },
          ];
          throw new ConnectError(
            `refused ${req.idempotencyKey}`,
            Code.ResourceExhausted,
            { "retry-after": "7" },
            details,
          );
        },
        cancelPayout: async (_req, ctx) => {
          // Slower than any deadline the tests give: ends when the deadline aborts it.
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, 10_000);
            ctx.signal.addEventListener("abort", () => {
              clearTimeout(timer);
              resolve(undefined);
            });
          });
          return { payout: { id: `timeout ${ctx.timeoutMs() ?? "none"}` } };
        },
        async *exportPayouts() {
          for (let i = 1; i <= 3; i++) yield { data: `row ${i}`, rowCount: i, done: i === 3 };
        },
      }),
  });
});

afterAll(async () => {
  for (const s of sessions) s.abort();
  for (const c of grpcClients) c.close();
  await server?.close();
});

function connectClient(protocol: "grpc" | "connect", binary = true) {
  const sessionManager = new Http2SessionManager(server.url);
  sessions.push(sessionManager);
  const options = { baseUrl: server.url, sessionManager, useBinaryFormat: binary };
  const transport: Transport =
    protocol === "grpc"
      ? createGrpcTransport(options)
      : createConnectTransport({ ...options, httpVersion: "2" });
  return createClient(PayoutService, transport);
}

/** The ConnectError a call ends with (undefined when it succeeds). */
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e) => ConnectError.from(e),
  );

interface GrpcAnswer {
  err: grpc.ServiceError | null;
  res?: GetPayoutResponse;
  header?: grpc.Metadata;
  trailer?: grpc.Metadata;
}

/** A unary call with grpc-js (another implementation than connect's) on `method`. */
function grpcJsCall(
  method: string,
  id: string,
  options: { deadlineMs?: number; channel?: grpc.ChannelOptions } = {},
): Promise<GrpcAnswer> {
  const client = new grpc.Client(
    server.url.replace("http://", ""),
    grpc.credentials.createInsecure(),
    options.channel ?? {},
  );
  grpcClients.push(client);
  const answer: GrpcAnswer = { err: null };
  return new Promise((resolve) => {
    const call = client.makeUnaryRequest(
      `/${PayoutService.typeName}/${method}`,
      (m: GetPayoutRequest) => Buffer.from(toBinary(GetPayoutRequestSchema, m)),
      (b: Buffer) => fromBinary(GetPayoutResponseSchema, b),
      create(GetPayoutRequestSchema, { id }),
      new grpc.Metadata(),
      options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {},
      (err, res) => {
        answer.err = err;
        answer.res = res;
      },
    );
    call.on("metadata", (m) => {
      answer.header = m;
    });
    call.on("status", (s) => {
      answer.trailer = s.metadata;
      resolve(answer);
    });
  });
}

describe("gRPC unary calls on core's server", () => {
  it("answers grpc-js with the message, the handler's headers and its trailers", async () => {
    const a = await grpcJsCall("GetPayout", "po_1");
    expect(a.err).toBeNull();
    expect(a.res?.payout?.id).toBe("po_1");
    expect(a.res?.payout?.state).toBe(PayoutState.QUEUED);
    expect(a.header?.get("x-echo-length")).toEqual(["4"]);
    expect(a.trailer?.get("x-served-by")).toEqual(["core"]);
  });

  it("gives grpc-js an error's code, message, details and metadata", async () => {
    const a = await grpcJsCall("CreatePayout", "");
    expect(a.err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(a.err?.details).toBe("refused ");
    expect(a.err?.metadata.get("retry-after")).toEqual(["7"]);
    // The same error as connect-node's own gRPC client decodes it, details included.
    const err = await failure(connectClient("grpc").createPayout({ idempotencyKey: "k1" }));
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.rawMessage).toBe("refused k1");
    expect(err?.metadata.get("retry-after")).toBe("7");
    expect(err?.findDetails(ErrorInfoSchema)[0]?.reason).toBe("payout.test_refused");
  });

  it("passes the gRPC deadline to the handler, which ends in DeadlineExceeded", async () => {
    const started = Date.now();
    const a = await grpcJsCall("CancelPayout", "x", { deadlineMs: 300 });
    expect(a.err?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(5_000);
    const err = await failure(connectClient("grpc").cancelPayout({ id: "x" }, { timeoutMs: 300 }));
    expect(err?.code).toBe(Code.DeadlineExceeded);
  });

  it("carries a 200 KB message both ways over gRPC, gRPC with JSON, and Connect", async () => {
    const big = "x".repeat(200_000);
    const a = await grpcJsCall("GetPayout", big);
    expect(a.err).toBeNull();
    expect(a.res?.payout?.id.length).toBe(200_000);
    for (const client of [
      connectClient("grpc"),
      connectClient("grpc", false),
      connectClient("connect"),
    ]) {
      const res = await client.getPayout({ id: big });
      expect(res.payout?.id).toBe(big);
    }
  });

  it("refuses a message over the 4 MiB read limit with ResourceExhausted", async () => {
    const a = await grpcJsCall("GetPayout", "y".repeat(4 * 1024 * 1024 + 10));
    expect(a.err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it("still serves gzip-compressed gRPC calls and server streams", async () => {
    const a = await grpcJsCall("GetPayout", "z".repeat(5_000), {
      channel: { "grpc.default_compression_algorithm": 2 },
    });
    expect(a.err).toBeNull();
    expect(a.res?.payout?.id.length).toBe(5_000);
    const rows: string[] = [];
    for await (const r of connectClient("grpc").exportPayouts({})) rows.push(r.data);
    expect(rows).toEqual(["row 1", "row 2", "row 3"]);
  });

  it("answers a malformed gRPC request with a gRPC status, not a broken stream", async () => {
    const session = http2.connect(server.url);
    const status = await new Promise<string | undefined>((resolve, reject) => {
      const req = session.request({
        ":method": "POST",
        ":path": `/${PayoutService.typeName}/GetPayout`,
        "content-type": "application/grpc",
        te: "trailers",
      });
      req.on("trailers", (t) => resolve(String(t["grpc-status"])));
      req.on("error", reject);
      req.on("end", () => resolve(undefined));
      req.resume();
      // An envelope that announces 100 bytes and carries 3.
      req.end(Buffer.from([0, 0, 0, 0, 100, 1, 2, 3]));
    });
    session.close();
    expect(status).toBe(String(Code.InvalidArgument));
  });
});
