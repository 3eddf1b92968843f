// Container health checks for images without a shell or curl (distroless): exit 0 when healthy.
//   node healthcheck.mjs grpc 127.0.0.1:50051 [SERVICE]   standard gRPC health Check, SERVING
//     only; SERVICE "" (the default) is the whole server, grpc.health.v1.Health the process alone
//   node healthcheck.mjs http http://127.0.0.1:8080/healthz   any 2xx
//   node healthcheck.mjs socket /run/tronpay/signer.sock      the Unix socket accepts a connection
// Plain JavaScript on Node's built-ins so that it runs in the image without tsx or a build.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";

const TIMEOUT_MS = 3000;
// grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING
const SERVING = 1;

/** Resolves true when core's grpc.health.v1.Health/Check answers SERVING for `service`. */
export function checkGrpc(target, timeoutMs = TIMEOUT_MS, service = "") {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${target}`);
    const finish = (ok) => {
      clearTimeout(timer);
      session.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    session.on("error", () => finish(false));
    const req = session.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Check",
      "content-type": "application/grpc",
      te: "trailers",
    });
    const chunks = [];
    let grpcStatus;
    req.on("response", (headers) => {
      // A trailers-only answer carries grpc-status in the headers.
      if (headers["grpc-status"] !== undefined) grpcStatus = headers["grpc-status"];
    });
    req.on("trailers", (trailers) => {
      grpcStatus = trailers["grpc-status"];
    });
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("error", () => finish(false));
    req.on("end", () =>
      finish(grpcStatus === "0" && servingStatus(Buffer.concat(chunks)) === SERVING),
    );
    req.end(checkRequestFrame(service));
  });
}

/** One length-prefixed gRPC frame holding HealthCheckRequest{service} (field 1, a string). */
export function checkRequestFrame(service) {
  const name = Buffer.from(service, "utf8");
  // Service names are short: a one-byte length varint (under 128) is all this writes.
  if (name.length > 127) throw new Error("service name too long");
  const message = name.length === 0 ? Buffer.alloc(0) : Buffer.from([0x0a, name.length, ...name]);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** The status field (1, varint) of a framed HealthCheckResponse; undefined when absent. */
export function servingStatus(frame) {
  if (frame.length < 5 || frame[0] !== 0) return undefined;
  const message = frame.subarray(5, 5 + frame.readUInt32BE(1));
  // The response has one field; its value is a small enum, so one varint byte suffices.
  return message[0] === 0x08 ? message[1] : undefined;
}

/** Resolves true when GET url answers 2xx. */
export function checkHttp(url, timeoutMs = TIMEOUT_MS) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

/** Resolves true when the Unix socket at path accepts a connection. */
export function checkSocket(path, timeoutMs = TIMEOUT_MS) {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    const finish = (ok) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

const CHECKS = { grpc: checkGrpc, http: checkHttp, socket: checkSocket };

if (import.meta.url === `file://${process.argv[1]}`) {
  const [kind, target, service] = process.argv.slice(2);
  const check = CHECKS[kind];
  if (!check || !target || (service !== undefined && kind !== "grpc")) {
    process.stderr.write("usage: healthcheck.mjs grpc TARGET [SERVICE] | http|socket TARGET\n");
    process.exit(2);
  }
  const checked = kind === "grpc" ? checkGrpc(target, TIMEOUT_MS, service) : check(target);
  checked.then((ok) => process.exit(ok ? 0 : 1));
}
