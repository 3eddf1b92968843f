import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import { checkGrpc, checkHttp, checkSocket } from "../../deploy/healthcheck.mjs";
import { HealthCheckRequestSchema } from "../../src/gen/health/v1/health_pb.js";
import { ROOT } from "./files.js";

const closers: (() => void)[] = [];
afterAll(() => {
  for (const close of closers) close();
});

/** An h2c server answering grpc.health.v1.Health/Check with the given status and body. */
async function grpcServer(grpcStatus: string, body: number[]): Promise<string> {
  const server = http2.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url !== "/grpc.health.v1.Health/Check") {
        res.writeHead(404).end();
        return;
      }
      res.addTrailers({ "grpc-status": grpcStatus });
      res.writeHead(200, { "content-type": "application/grpc" });
      res.end(Buffer.from([0, 0, 0, 0, body.length, ...body]));
    });
  });
  return listen(server);
}

async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => server.close());
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("deploy/healthcheck.mjs", () => {
  it("grpc: healthy only when the health service answers SERVING", async () => {
    expect(await checkGrpc(await grpcServer("0", [0x08, 0x01]))).toBe(true);
    expect(await checkGrpc(await grpcServer("0", [0x08, 0x02]))).toBe(false); // NOT_SERVING
    expect(await checkGrpc(await grpcServer("12", []))).toBe(false); // unimplemented
  });

  it('grpc: asks for the named service ("" by default) in a HealthCheckRequest', async () => {
    const asked: string[] = [];
    const server = http2.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const frame = Buffer.concat(chunks);
        const request = fromBinary(HealthCheckRequestSchema, frame.subarray(5));
        expect(frame.readUInt32BE(1)).toBe(frame.length - 5);
        asked.push(request.service);
        const status = request.service === "grpc.health.v1.Health" ? 0x01 : 0x02;
        res.addTrailers({ "grpc-status": "0" });
        res.writeHead(200, { "content-type": "application/grpc" });
        res.end(Buffer.from([0, 0, 0, 0, 2, 0x08, status]));
      });
    });
    const host = await listen(server);
    expect(await checkGrpc(host)).toBe(false);
    expect(await checkGrpc(host, 1000, "grpc.health.v1.Health")).toBe(true);
    expect(asked).toEqual(["", "grpc.health.v1.Health"]);
  });

  it("grpc: unhealthy when nothing listens", async () => {
    const free = await listen(net.createServer());
    closers.pop()?.();
    expect(await checkGrpc(free, 1000)).toBe(false);
  });

  it("http: healthy on 2xx only", async () => {
    const server = http.createServer((req, res) =>
      res.writeHead(req.url === "/ok" ? 200 : 503).end(),
    );
    const host = await listen(server);
    expect(await checkHttp(`http://${host}/ok`)).toBe(true);
    expect(await checkHttp(`http://${host}/readyz`)).toBe(false);
  });

  it("socket: healthy when the Unix socket accepts, not when it is gone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hc-"));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "signer.sock");
    const server = net.createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(path, resolve));
    expect(await checkSocket(path)).toBe(true);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await checkSocket(path)).toBe(false);
  });

  it("as a command, exits 0 when healthy, 1 when not and 2 on bad usage", async () => {
    const host = await listen(
      http.createServer((req, res) => res.writeHead(req.url === "/ok" ? 200 : 500).end()),
    );
    const exitCode = (args: string[]) =>
      new Promise<number | null>((resolve) =>
        execFile(process.execPath, [join(ROOT, "deploy/healthcheck.mjs"), ...args], (err) =>
          resolve(err ? (err.code as number) : 0),
        ),
      );
    expect(await exitCode(["http", `http://${host}/ok`])).toBe(0);
    expect(await exitCode(["http", `http://${host}/bad`])).toBe(1);
    expect(await exitCode(["ping"])).toBe(2);
    expect(await exitCode(["http", `http://${host}/ok`, "extra"])).toBe(2);
  });
});
