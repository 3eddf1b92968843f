import { z } from "zod";
import { type ConfigSpec, zc } from "../shared/config.js";

/** The edge's one typed config (flag > env > file > default). */
export const edgeConfigSpec = {
  schema: z.object({
    /** Loopback by default: Tor (or a reverse proxy) is what faces out, not this port. */
    host: z.string().default("127.0.0.1"),
    port: zc.port().default(8080),
    /** Listen on this Unix socket instead of host:port when set (how Tor can reach it). */
    socket: z.string().default(""),
    /** Core's Connect/gRPC URL (cleartext HTTP/2). */
    coreUrl: zc.url().default("http://127.0.0.1:8090"),
    /** Largest request body accepted, bytes. */
    maxBodyBytes: zc.positiveInt().default(1024 * 1024),
    /** Requests served at once; more are answered 503. */
    maxConcurrent: zc.positiveInt().default(256),
    /** Deadline of a REST call to core when the client sets none (ms). */
    defaultDeadlineMs: zc.positiveInt().default(30_000),
    /** Deadline of a streaming REST call to core (ms). */
    streamDeadlineMs: zc.positiveInt().default(3_600_000),
    /** Time to receive the request headers (ms). */
    headersTimeoutMs: zc.positiveInt().default(10_000),
    /** Time to receive the whole request body (ms). */
    requestTimeoutMs: zc.positiveInt().default(30_000),
    /** Idle keep-alive connections are closed after this (ms). */
    keepAliveTimeoutMs: zc.positiveInt().default(5_000),
    /** Origins allowed by CORS; none by default. */
    corsOrigins: zc.list().default([]),
    logLevel: z.string().default("info"),
  }),
  sources: {
    host: { env: "TRONPAY_EDGE_HOST", flag: "host" },
    port: { env: "TRONPAY_EDGE_PORT", flag: "port" },
    socket: { env: "TRONPAY_EDGE_SOCKET", flag: "socket" },
    coreUrl: { env: "TRONPAY_CORE_URL", flag: "core-url" },
    maxBodyBytes: { env: "TRONPAY_EDGE_MAX_BODY_BYTES", flag: "max-body-bytes" },
    maxConcurrent: { env: "TRONPAY_EDGE_MAX_CONCURRENT", flag: "max-concurrent" },
    defaultDeadlineMs: { env: "TRONPAY_EDGE_DEADLINE_MS", flag: "deadline-ms" },
    streamDeadlineMs: { env: "TRONPAY_EDGE_STREAM_DEADLINE_MS" },
    headersTimeoutMs: { env: "TRONPAY_EDGE_HEADERS_TIMEOUT_MS" },
    requestTimeoutMs: { env: "TRONPAY_EDGE_REQUEST_TIMEOUT_MS" },
    keepAliveTimeoutMs: { env: "TRONPAY_EDGE_KEEPALIVE_TIMEOUT_MS" },
    corsOrigins: { env: "TRONPAY_EDGE_CORS_ORIGINS", flag: "cors-origins" },
    logLevel: { env: "LOG_LEVEL", flag: "log-level" },
  },
} satisfies ConfigSpec<z.AnyZodObject>;

/** The edge's validated config. */
export type EdgeConfig = z.infer<typeof edgeConfigSpec.schema>;
