import { isIP } from "node:net";
import { z } from "zod";
import { FORWARD_SECRET_MIN_LENGTH } from "../shared/client-origin.js";
import { type ConfigSpec, zc } from "../shared/config.js";
import { AppError } from "../shared/errors.js";

/** The edge's one typed config (flag > env > file > default). */
export const edgeConfigSpec = {
  schema: z.object({
    /** Loopback by default: Tor (or a reverse proxy) is what faces out, not this port. */
    host: z.string().default("127.0.0.1"),
    port: zc.port().default(8080),
    /** Listen on this Unix socket instead of host:port when set (how Tor can reach it). */
    socket: z.string().default(""),
    /** Core's Connect/gRPC URL: http:// (cleartext HTTP/2) or https:// (core serves TLS). */
    coreUrl: zc.url().default("http://127.0.0.1:8090"),
    /** PEM CA that core's TLS certificate chains to (https core URL); empty: the system's. */
    coreCaFile: z.string().default(""),
    /** PEM client certificate and key the edge presents to core (mTLS), both or neither. */
    coreCertFile: z.string().default(""),
    coreKeyFile: z.string().default(""),
    /** Largest request body accepted, bytes. */
    maxBodyBytes: zc.positiveInt().default(1024 * 1024),
    /** Requests served at once per listener (plain, onion); more are answered 503. */
    maxConcurrent: zc.positiveInt().default(256),
    /** Requests served at once for one client address (plain listener). */
    maxConcurrentPerClient: zc.positiveInt().default(32),
    /**
     * Requests served at once that go on without credentials (RefreshToken), per listener: the
     * smallest budget, so unauthenticated callers cannot hold what authenticated ones need.
     */
    maxUnauthenticated: zc.positiveInt().default(32),
    /** The same per client address (plain listener). */
    maxUnauthenticatedPerClient: zc.positiveInt().default(4),
    /** Connections open at once per listener; more are closed at once. */
    maxConnections: zc.positiveInt().default(1024),
    /** Connections open at once from one client address (plain listener). */
    maxConnectionsPerClient: zc.positiveInt().default(64),
    /** Deadline of a REST call to core when the client sets none (ms). */
    defaultDeadlineMs: zc.positiveInt().default(30_000),
    /** Deadline of a streaming REST call to core (ms). */
    streamDeadlineMs: zc.positiveInt().default(3_600_000),
    /**
     * Time to receive a request's headers, from the connection's start or the end of its
     * previous answer (ms); the connection is closed when they are late.
     */
    headersTimeoutMs: zc.positiveInt().default(10_000),
    /** Time to receive the whole request body once its headers are in (ms); then 408. */
    requestTimeoutMs: zc.positiveInt().default(30_000),
    /** Idle keep-alive connections (HTTP/2: sessions with no open stream) close after this (ms). */
    keepAliveTimeoutMs: zc.positiveInt().default(5_000),
    /** Origins allowed by CORS; none by default. */
    corsOrigins: zc.list().default([]),
    /**
     * off: no Tor. required: the onion listener (onionListenPort) is published as a v3 onion
     * service through Tor's control port, /readyz is 503 until it is, and the plain listener
     * must be on loopback or a Unix socket unless `clearnet` is set.
     */
    torMode: z.enum(["off", "required"]).default("off"),
    torControlHost: z.string().default("127.0.0.1"),
    torControlPort: zc.port().default(9051),
    /** Tor's control cookie; empty: the file Tor names in PROTOCOLINFO. */
    torCookieFile: z.string().default(""),
    /** Authenticate with this password instead of the cookie when set. */
    torControlPassword: z.string().default(""),
    /** The edge's own data; the onion service key is kept here (0600). */
    dataDir: z.string().default(".data/edge"),
    /** The port clients use on the .onion address. */
    onionPort: zc.port().min(1).default(80),
    /** x25519 public keys (base32) allowed to reach the onion; empty: anyone with the address. */
    onionClientAuth: zc.list().default([]),
    /**
     * The onion listener: a second listener on 127.0.0.1 whose callers are onion clients (the
     * onion service forwards to it, never to the plain listener). Opened in TOR_MODE=required
     * (0: any free port, told to Tor) and, when set to a port, also without it, for a Tor the
     * operator runs (HiddenServicePort … 127.0.0.1:<port>). Anything that can connect to it
     * counts as an onion client: keep it on the loopback of the edge and its Tor.
     */
    onionListenPort: zc.port().default(0),
    /**
     * Shared with core: the key of the MAC on the client origin the edge states for each call
     * (client address, or onion), so API keys' allowed_ips and onion_only bindings and the
     * failed-authentication buckets see the client, not the edge. Empty: nothing is stated;
     * core sees the edge's address and onion_only keys cannot authenticate through the edge.
     */
    forwardSecret: zc.optionalKey(FORWARD_SECRET_MIN_LENGTH).default(""),
    /**
     * In TOR_MODE=required, also allow listening on a non-loopback host (clearnet exposure
     * next to the onion, e.g. behind a reverse proxy). Off by default.
     */
    clearnet: zc.bool().default(false),
    /**
     * How long the edge keeps core's answer about a credential (WhoAmI) before asking again
     * (s): a revoked or expired API key stops passing the edge within this time (core refuses
     * it at once anyway). Rejections are kept as long, so a wrong key does not reach core
     * again and again. 0 asks core on every request.
     */
    authCacheTtlSec: zc.nonNegativeInt().default(30),
    /** Credentials remembered at most; the oldest are dropped first. */
    authCacheSize: zc.positiveInt().default(10_000),
    /** Calls per window per principal and read method (the same setting as core's). */
    rateReadPerMin: zc.positiveInt().default(1200),
    /** Calls per window per principal and write method. */
    rateWritePerMin: zc.positiveInt().default(120),
    /**
     * Failed authentications per window per client address (onion clients and unknown
     * addresses: per credential presented, by its hash) before it is refused.
     */
    rateAuthFailuresPerMin: zc.positiveInt().default(20),
    /**
     * Failed authentications per window in all buckets together before the breaker opens:
     * then only credentials that authenticated lately get through, the rest get 429.
     */
    rateAuthFailuresGlobalPerMin: zc.positiveInt().default(1000),
    /** The rate-limit window (s); the per-minute figures count per window. Tests shorten it. */
    rateWindowSec: zc.positiveInt().default(60),
    /** Redis for the edge's counters (shared by several edges); empty: in memory. */
    redisUrl: z.string().default(""),
    /** Key prefix in Redis; the edge adds "edge:" so its counts stay apart from core's. */
    redisKeyPrefix: z.string().default("tronpay:"),
    logLevel: z.string().default("info"),
  }),
  sources: {
    host: { env: "TRONPAY_EDGE_HOST", flag: "host" },
    port: { env: "TRONPAY_EDGE_PORT", flag: "port" },
    coreCaFile: { env: "TRONPAY_EDGE_CORE_CA" },
    coreCertFile: { env: "TRONPAY_EDGE_CORE_CERT" },
    coreKeyFile: { env: "TRONPAY_EDGE_CORE_KEY" },
    socket: { env: "TRONPAY_EDGE_SOCKET", flag: "socket" },
    coreUrl: { env: "TRONPAY_CORE_URL", flag: "core-url" },
    maxBodyBytes: { env: "TRONPAY_EDGE_MAX_BODY_BYTES", flag: "max-body-bytes" },
    maxConcurrent: { env: "TRONPAY_EDGE_MAX_CONCURRENT", flag: "max-concurrent" },
    maxConcurrentPerClient: { env: "TRONPAY_EDGE_MAX_CONCURRENT_PER_CLIENT" },
    maxUnauthenticated: { env: "TRONPAY_EDGE_MAX_UNAUTHENTICATED" },
    maxUnauthenticatedPerClient: { env: "TRONPAY_EDGE_MAX_UNAUTHENTICATED_PER_CLIENT" },
    maxConnections: { env: "TRONPAY_EDGE_MAX_CONNECTIONS" },
    maxConnectionsPerClient: { env: "TRONPAY_EDGE_MAX_CONNECTIONS_PER_CLIENT" },
    defaultDeadlineMs: { env: "TRONPAY_EDGE_DEADLINE_MS", flag: "deadline-ms" },
    streamDeadlineMs: { env: "TRONPAY_EDGE_STREAM_DEADLINE_MS" },
    headersTimeoutMs: { env: "TRONPAY_EDGE_HEADERS_TIMEOUT_MS" },
    requestTimeoutMs: { env: "TRONPAY_EDGE_REQUEST_TIMEOUT_MS" },
    keepAliveTimeoutMs: { env: "TRONPAY_EDGE_KEEPALIVE_TIMEOUT_MS" },
    corsOrigins: { env: "TRONPAY_EDGE_CORS_ORIGINS", flag: "cors-origins" },
    torMode: { env: "TOR_MODE", flag: "tor-mode" },
    torControlHost: { env: "TOR_CONTROL_HOST" },
    torControlPort: { env: "TOR_CONTROL_PORT" },
    torCookieFile: { env: "TOR_COOKIE_FILE" },
    torControlPassword: { env: "TOR_CONTROL_PASSWORD", secret: true },
    dataDir: { env: "TRONPAY_EDGE_DATA_DIR", flag: "data-dir" },
    onionPort: { env: "TRONPAY_ONION_PORT", flag: "onion-port" },
    onionClientAuth: { env: "TRONPAY_ONION_CLIENT_AUTH" },
    onionListenPort: { env: "TRONPAY_EDGE_ONION_LISTEN_PORT" },
    forwardSecret: { env: "TRONPAY_EDGE_FORWARD_SECRET", secret: true },
    clearnet: { env: "TRONPAY_EDGE_CLEARNET", flag: "clearnet" },
    authCacheTtlSec: { env: "TRONPAY_EDGE_AUTH_CACHE_TTL_SEC" },
    authCacheSize: { env: "TRONPAY_EDGE_AUTH_CACHE_SIZE" },
    rateReadPerMin: { env: "TRONPAY_RATE_READ_PER_MIN" },
    rateWritePerMin: { env: "TRONPAY_RATE_WRITE_PER_MIN" },
    rateAuthFailuresPerMin: { env: "TRONPAY_RATE_AUTH_FAILURES_PER_MIN" },
    rateAuthFailuresGlobalPerMin: { env: "TRONPAY_RATE_AUTH_FAILURES_GLOBAL_PER_MIN" },
    rateWindowSec: { env: "TRONPAY_EDGE_RATE_WINDOW_SEC" },
    redisUrl: { env: "REDIS_URL", secret: true },
    redisKeyPrefix: { env: "TRONPAY_REDIS_KEY_PREFIX" },
    logLevel: { env: "LOG_LEVEL", flag: "log-level" },
  },
} satisfies ConfigSpec<z.AnyZodObject>;

/** The edge's validated config. */
export type EdgeConfig = z.infer<typeof edgeConfigSpec.schema>;

/**
 * Throws config.invalid when TOR_MODE=required would expose REST beside the onion: a
 * non-loopback host without `clearnet`. (The onion targets the onion listener on 127.0.0.1;
 * the plain listener may also be a Unix socket.)
 */
export function checkTorListener(config: EdgeConfig): void {
  if (config.torMode !== "required") return;
  if (config.socket === "" && !isLoopback(config.host) && !config.clearnet) {
    throw new AppError(
      "config.invalid",
      "TOR_MODE=required listens on loopback only; set TRONPAY_EDGE_CLEARNET=true to listen on another host",
      { metadata: { field: "host" } },
    );
  }
}

/** 127.0.0.0/8, ::1 or localhost; a name that might resolve elsewhere is not loopback. */
function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}
