/**
 * gRPC (grpc-js client, h2c) against the Connect protocol (connect-node client) on the same
 * core server (serveCore) and the same unary RPC, at the same in-flight levels. Each figure
 * is the median of several runs: requests per second and median latency.
 *
 *   npx tsx bench/grpc-vs-connect.ts [--n 4000] [--runs 3] [--inflight 1,10,50]
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { serveCore } from "../src/core/server.js";
import {
  AdminService,
  GetPauseStateRequestSchema,
  GetPauseStateResponseSchema,
} from "../src/gen/tronpay/v1/admin_pb.js";
import { parseFlags } from "../src/shared/config.js";

const flags = parseFlags(process.argv.slice(2));
const N = Number(flags.n ?? 4000);
const RUNS = Number(flags.runs ?? 3);
const LEVELS = String(flags.inflight ?? "1,10,50")
  .split(",")
  .map(Number);

type Call = () => Promise<void>;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** N calls with `inflight` outstanding at all times: requests/s and median latency (ms). */
async function run(call: Call, inflight: number): Promise<{ rps: number; p50: number }> {
  const latencies: number[] = [];
  let next = 0;
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
  return { rps: N / seconds, p50: median(latencies) };
}

function grpcCall(url: string): { call: Call; close: () => void } {
  const client = new grpc.Client(url.replace("http://", ""), grpc.credentials.createInsecure());
  const path = `/${AdminService.typeName}/GetPauseState`;
  const request = create(GetPauseStateRequestSchema);
  const call: Call = () =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        path,
        (m: typeof request) => Buffer.from(toBinary(GetPauseStateRequestSchema, m)),
        (b: Buffer) => fromBinary(GetPauseStateResponseSchema, b),
        request,
        (err) => (err ? reject(err) : resolve()),
      );
    });
  return { call, close: () => client.close() };
}

function connectCall(url: string): Call {
  const transport = createConnectTransport({ baseUrl: url, httpVersion: "2" });
  const client = createClient(AdminService, transport);
  return async () => {
    await client.getPauseState({});
  };
}

async function main() {
  const server = await serveCore({
    host: "127.0.0.1",
    port: 0,
    interceptors: [],
    routes: (router) =>
      router.service(AdminService, {
        getPauseState: () => create(GetPauseStateResponseSchema, {}),
      }),
  });
  const grpcClient = grpcCall(server.url);
  const connect = connectCall(server.url);
  await run(grpcClient.call, 10); // warm-up: connections, JIT
  await run(connect, 10);
  console.log(`unary GetPauseState, ${N} calls per run, median of ${RUNS} runs`);
  for (const inflight of LEVELS) {
    const g: { rps: number; p50: number }[] = [];
    const c: { rps: number; p50: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      g.push(await run(grpcClient.call, inflight));
      c.push(await run(connect, inflight));
    }
    const gr = median(g.map((x) => x.rps));
    const cr = median(c.map((x) => x.rps));
    console.log(
      `in flight ${String(inflight).padStart(3)}: ` +
        `grpc ${gr.toFixed(0).padStart(6)} req/s p50 ${median(g.map((x) => x.p50)).toFixed(2)} ms | ` +
        `connect ${cr.toFixed(0).padStart(6)} req/s p50 ${median(c.map((x) => x.p50)).toFixed(2)} ms | ` +
        `grpc/connect ${((100 * gr) / cr).toFixed(0)}%`,
    );
  }
  grpcClient.close();
  await server.close();
}

await main();
