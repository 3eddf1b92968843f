/**
 * gRPC against the Connect protocol on the same core server (serveCore) and the same trivial
 * unary RPC, at the same in-flight levels, all measured in one run so the ratios compare like
 * with like on a noisy machine. Besides the grpc-js client and the Connect protocol it runs
 * connect-node's own gRPC client against the same server (the same wire protocol from another
 * client) and grpc-js against a grpc-js server with an equivalent handler (the same client
 * against another server), which separates what the client costs from what the server costs.
 * With --stock it also serves the routes as serveCore did before its gRPC unary path
 * (src/core/app/grpc-unary.ts): connectNodeAdapter on an HTTP/2 server with TCP_NODELAY.
 *
 *   npx tsx bench/grpc-vs-connect.ts [--n 4000] [--runs 3] [--inflight 1,10,50] [--stock]
 *
 * Each figure is the median of the runs: requests per second, median latency (ms), and the
 * process's CPU time per call (µs; client and server together, since both run here), which
 * load from other processes does not inflate the way it does wall-clock figures.
 */
import http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type ConnectRouter, createClient, type Transport } from "@connectrpc/connect";
import {
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { serveCore } from "../src/core/app/server.js";
import {
  AdminService,
  type GetPauseStateRequest,
  GetPauseStateRequestSchema,
  type GetPauseStateResponse,
  GetPauseStateResponseSchema,
} from "../src/gen/tronpay/v1/admin_pb.js";
import { parseFlags } from "../src/shared/config.js";

const flags = parseFlags(process.argv.slice(2));
const N = Number(flags.n ?? 4000);
const RUNS = Number(flags.runs ?? 3);
const LEVELS = String(flags.inflight ?? "1,10,50")
  .split(",")
  .map(Number);
const STOCK = flags.stock !== undefined;

type Call = () => Promise<void>;
interface Client {
  name: string;
  call: Call;
  close(): void;
}
interface Result {
  rps: number;
  p50: number;
  cpuUs: number;
}

const METHOD_PATH = `/${AdminService.typeName}/GetPauseState`;
const routes = (router: ConnectRouter) =>
  router.service(AdminService, {
    getPauseState: () => create(GetPauseStateResponseSchema, {}),
  });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** N calls with `inflight` outstanding at all times: requests/s, median latency, CPU per call. */
async function run(call: Call, inflight: number): Promise<Result> {
  const latencies: number[] = [];
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const lane = async () => {
    while (next < N) {
      next++;
      const t = performance.now();
      await call();
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { rps: N / seconds, p50: median(latencies), cpuUs: (used.user + used.system) / N };
}

/** grpc-js with its default channel options, as an internal service would use it. */
function grpcJsClient(name: string, url: string, options: grpc.ChannelOptions = {}): Client {
  const client = new grpc.Client(
    url.replace("http://", ""),
    grpc.credentials.createInsecure(),
    options,
  );
  const request = create(GetPauseStateRequestSchema);
  const call: Call = () =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        METHOD_PATH,
        (m: GetPauseStateRequest) => Buffer.from(toBinary(GetPauseStateRequestSchema, m)),
        (b: Buffer) => fromBinary(GetPauseStateResponseSchema, b),
        request,
        (err) => (err ? reject(err) : resolve()),
      );
    });
  return { name, call, close: () => client.close() };
}

/** A connect-node client (Connect or gRPC protocol) on its own HTTP/2 session. */
function connectClient(
  name: string,
  url: string,
  make: (o: {
    baseUrl: string;
    httpVersion: "2";
    sessionManager: Http2SessionManager;
  }) => Transport,
): Client {
  const sessionManager = new Http2SessionManager(url);
  const client = createClient(
    AdminService,
    make({ baseUrl: url, httpVersion: "2", sessionManager }),
  );
  return {
    name,
    call: async () => {
      await client.getPauseState({});
    },
    close: () => sessionManager.abort(),
  };
}

/** A grpc-js server with the same trivial unary handler, on a loopback port. */
async function grpcJsServer(): Promise<{ url: string; close(): void }> {
  const server = new grpc.Server();
  server.addService(
    {
      GetPauseState: {
        path: METHOD_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: (m: GetPauseStateRequest) =>
          Buffer.from(toBinary(GetPauseStateRequestSchema, m)),
        requestDeserialize: (b: Buffer) => fromBinary(GetPauseStateRequestSchema, b),
        responseSerialize: (m: GetPauseStateResponse) =>
          Buffer.from(toBinary(GetPauseStateResponseSchema, m)),
        responseDeserialize: (b: Buffer) => fromBinary(GetPauseStateResponseSchema, b),
      },
    },
    {
      GetPauseState: (
        _call: grpc.ServerUnaryCall<GetPauseStateRequest, GetPauseStateResponse>,
        done: grpc.sendUnaryData<GetPauseStateResponse>,
      ) => done(null, create(GetPauseStateResponseSchema, {})),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { url: `http://127.0.0.1:${port}`, close: () => server.forceShutdown() };
}

/** The routes on connectNodeAdapter alone, as serveCore served them before (--stock). */
async function stockServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http2.createServer(connectNodeAdapter({ routes }));
  server.on("connection", (socket: Socket) => socket.setNoDelay(true));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function main() {
  const core = await serveCore({ host: "127.0.0.1", port: 0, interceptors: [], routes });
  const baseline = await grpcJsServer();
  const stock = STOCK ? await stockServer() : undefined;
  const clients: Client[] = [
    grpcJsClient("grpc-js → core", core.url),
    connectClient("connect-grpc → core", core.url, createGrpcTransport),
    connectClient("connect → core", core.url, createConnectTransport),
    grpcJsClient("grpc-js → grpc-js", baseline.url),
  ];
  if (stock) {
    clients.push(grpcJsClient("grpc-js → core before", stock.url));
    clients.push(connectClient("connect → core before", stock.url, createConnectTransport));
  }
  for (const c of clients) await run(c.call, 10); // warm-up: connections, JIT
  console.log(
    `unary GetPauseState, ${N} calls per run, median of ${RUNS} runs (clients interleaved)`,
  );
  for (const inflight of LEVELS) {
    const results = new Map<string, Result[]>(clients.map((c) => [c.name, []]));
    for (let i = 0; i < RUNS; i++)
      for (const c of clients) results.get(c.name)?.push(await run(c.call, inflight));
    const of = (name: string, key: keyof Result) =>
      median((results.get(name) ?? []).map((r) => r[key]));
    console.log(`in flight ${inflight}:`);
    for (const c of clients) {
      const ratio = (100 * of(c.name, "rps")) / of("connect → core", "rps");
      console.log(
        `  ${c.name.padEnd(22)} ${of(c.name, "rps").toFixed(0).padStart(6)} req/s` +
          `  p50 ${of(c.name, "p50").toFixed(2).padStart(6)} ms` +
          `  cpu ${of(c.name, "cpuUs").toFixed(0).padStart(4)} µs/call` +
          `  ${ratio.toFixed(0).padStart(4)}% of connect → core`,
      );
    }
    const share = (g: string, c: string) => `${((100 * of(g, "rps")) / of(c, "rps")).toFixed(0)}%`;
    console.log(
      `  grpc-js/connect on core: ${share("grpc-js → core", "connect → core")}` +
        (stock ? `; before: ${share("grpc-js → core before", "connect → core before")}` : ""),
    );
  }
  for (const c of clients) c.close();
  baseline.close();
  await stock?.close();
  await core.close();
}

await main();
