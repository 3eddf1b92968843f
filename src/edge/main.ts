import { readFileSync } from "node:fs";
import type http2 from "node:http2";
import { createConnectTransport } from "@connectrpc/connect-node";
import { describeConfig, loadConfig, parseFlags } from "../shared/config.js";
import { createLogger, type Logger } from "../shared/log.js";
import { edgeConfigSpec } from "./config.js";
import { renderDocs } from "./docs.js";
import { buildOpenApi } from "./openapi.js";
import { CoreProxy } from "./proxy.js";
import { startEdgeServer } from "./server.js";
import { restRoutesOf } from "./transcode/rules.js";

/** Seams for the caller (the Tor part, tests): how outbound connections to core are made. */
export interface RunEdgeOptions {
  log?: Logger;
  /** Options for every HTTP/2 session to core, e.g. createConnection through another route. */
  coreSessionOptions?: http2.ClientSessionOptions;
}

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
  const routes = restRoutesOf();
  const openapi = buildOpenApi(routes, packageVersion());
  // One HTTP/2 transport for every REST call; Connect multiplexes the calls on it.
  const transport = createConnectTransport({
    httpVersion: "2",
    baseUrl: config.coreUrl,
    nodeOptions: options.coreSessionOptions ?? {},
  });
  const probe = new CoreProxy(config.coreUrl, 0, options.coreSessionOptions);
  const server = await startEdgeServer({
    config,
    transport,
    routes,
    log,
    coreSessionOptions: options.coreSessionOptions,
    pages: {
      openapiJson: JSON.stringify(openapi),
      docsHtml: renderDocs(openapi),
      ready: () => probe.probe(),
    },
  });
  log.info({ url: server.url, routes: routes.length }, "edge ready");
  const stop = async () => {
    probe.close();
    await server.close();
  };
  return { url: server.url, stop };
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
      log.fatal({ err: err instanceof Error ? err.message : String(err) }, "edge failed to start");
      process.exit(1);
    });
}
