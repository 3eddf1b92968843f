import { readFileSync } from "node:fs";
import type http2 from "node:http2";
import { createConnectTransport } from "@connectrpc/connect-node";
import { describeConfig, loadConfig, parseFlags } from "../shared/config.js";
import { AppError } from "../shared/errors.js";
import { createLogger, type Logger } from "../shared/log.js";
import { createEdgeAccess } from "./access/gate.js";
import { checkTorListener, type EdgeConfig, edgeConfigSpec } from "./config.js";
import { renderDocs } from "./docs.js";
import { buildOpenApi } from "./openapi.js";
import { binaryUnaryTransport, CoreProxy } from "./proxy.js";
import { startEdgeServer } from "./server.js";
import type { TorReadiness } from "./static.js";
import { type EdgeOnion, type OnionTuning, startEdgeOnion } from "./tor/service.js";
import { restRoutesOf } from "./transcode/rules.js";

/** Seams for the caller (the Tor part, tests): how outbound connections to core are made. */
export interface RunEdgeOptions {
  log?: Logger;
  /** Options for every HTTP/2 session to core, e.g. createConnection through another route. */
  coreSessionOptions?: http2.ClientSessionOptions;
  /** Reconnect and poll timing of the onion publisher (tests shorten it). */
  onionTuning?: OnionTuning;
}

const NOT_CONNECTED: TorReadiness = { ready: false, published: false, bootstrap: undefined };

function packageVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return String((JSON.parse(text) as { version?: string }).version ?? "0.0.0");
}

/** Starts the edge: REST and RPC pass-through to core, OpenAPI and docs. Resolves once serving. */
export async function runEdge(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  options: RunEdgeOptions = {},
) {
  const flags = parseFlags(argv);
  const config = loadConfig(edgeConfigSpec, {
    flags,
    env,
    file: flags.config ?? env.TRONPAY_EDGE_CONFIG,
  });
  const log = options.log ?? createLogger({ name: "edge", level: config.logLevel });
  log.info({ config: describeConfig(edgeConfigSpec, config) }, "edge starting");
  checkTorListener(config);
  const routes = restRoutesOf();
  const openapi = buildOpenApi(routes, packageVersion());
  const coreSession = { ...coreTlsOptions(config), ...options.coreSessionOptions };
  // One HTTP/2 session for every unary call to core (binary protobuf), and a Connect
  // transport for the streams; both multiplex their calls.
  const probe = new CoreProxy(config.coreUrl, 0, coreSession);
  const transport = binaryUnaryTransport(
    probe,
    createConnectTransport({ httpVersion: "2", baseUrl: config.coreUrl, nodeOptions: coreSession }),
  );
  const access = createEdgeAccess(config, { transport, log });
  let onion: EdgeOnion | undefined;
  const server = await startEdgeServer({
    config,
    transport,
    routes,
    access,
    log,
    coreSessionOptions: coreSession,
    pages: {
      openapiJson: JSON.stringify(openapi),
      docsHtml: renderDocs(openapi),
      ready: () => probe.probe(),
      tor: config.torMode === "required" ? () => onion?.readiness() ?? NOT_CONNECTED : undefined,
    },
  });
  // Published only once the listener has its port (port 0 picks one).
  if (config.torMode === "required") {
    try {
      onion = publishListener(config, server.onionUrl ?? "", log, options);
    } catch (err) {
      // Invalid onion options (a malformed client key): no REST without its onion.
      probe.close();
      await server.close();
      await access.stop();
      throw err;
    }
  }
  if (server.onionUrl !== undefined && config.forwardSecret === "") {
    log.warn(
      "no TRONPAY_EDGE_FORWARD_SECRET: core sees this edge as every client's address, and API keys bound to the onion (onion_only) cannot authenticate through it",
    );
  }
  log.info(
    { url: server.url, onionUrl: server.onionUrl, routes: routes.length, torMode: config.torMode },
    "edge ready",
  );
  const stop = async () => {
    await onion?.stop();
    probe.close();
    await server.close();
    await access.stop();
  };
  return { url: server.url, onionUrl: server.onionUrl, onionAddress: () => onion?.address(), stop };
}

/** TLS options for sessions to an https core: its CA, and the edge's client certificate. */
function coreTlsOptions(config: EdgeConfig): http2.SecureClientSessionOptions {
  const read = (path: string) => (path === "" ? undefined : readFileSync(path));
  if ((config.coreCertFile === "") !== (config.coreKeyFile === "")) {
    throw new AppError("config.invalid", "TRONPAY_EDGE_CORE_CERT and _KEY go together");
  }
  const out: http2.SecureClientSessionOptions = {};
  const ca = read(config.coreCaFile);
  if (ca) out.ca = ca;
  const cert = read(config.coreCertFile);
  const key = read(config.coreKeyFile);
  if (cert && key) Object.assign(out, { cert, key });
  return out;
}

/** The onion service forwarding to the onion listener at `url` (http://127.0.0.1:port). */
function publishListener(
  config: EdgeConfig,
  url: string,
  log: Logger,
  options: RunEdgeOptions,
): EdgeOnion {
  const { hostname, port } = new URL(url);
  return startEdgeOnion(config, { host: hostname, port: Number(port) }, log, options.onionTuning);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const log = createLogger({ name: "edge" });
  runEdge(process.argv.slice(2), process.env, { log })
    .then(({ stop }) => {
      const shutdown = () => void stop().then(() => process.exit(0));
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
    })
    .catch((err) => {
      log.fatal({ err }, "edge failed to start");
      process.exit(1);
    });
}
