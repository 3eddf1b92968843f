import { existsSync } from "node:fs";
import { join } from "node:path";
import { type RunningDevnet, startDevnet } from "../devnet/devnet.js";
import type { Logger } from "../shared/log.js";
import { type Child, startChild } from "./child.js";
import type { LauncherConfig, LauncherPaths } from "./config.js";
import { type EmbeddedPostgres, PGLITE_POOL_SIZE, startEmbeddedPostgres } from "./postgres.js";

/** The database the system uses: the embedded one, or the operator's DATABASE_URL. */
export interface Database {
  url: string;
  poolSize: number;
  embedded?: EmbeddedPostgres;
}

/** Starts PGlite in dataDir/pg unless DATABASE_URL is set. */
export async function openSystemDatabase(
  config: LauncherConfig,
  paths: LauncherPaths,
): Promise<Database> {
  if (config.databaseUrl !== "") return { url: config.databaseUrl, poolSize: 10 };
  const embedded = await startEmbeddedPostgres(paths.pg, config.pgPort);
  return { url: embedded.url, poolSize: PGLITE_POOL_SIZE, embedded };
}

/** The TRON node: the in-process devnet (persisted in dataDir/devnet) unless TRON_NODE_URL is set. */
export interface Node {
  url: string;
  usdtContract: string;
  devnet?: RunningDevnet;
}

/** Starts the devnet, or checks that a real node comes with its USDT contract. */
export async function openNode(
  config: LauncherConfig,
  paths: LauncherPaths,
  log: Logger,
): Promise<Node> {
  if (config.nodeUrl !== "") {
    if (config.usdtContract === "") {
      throw new Error("TRON_NODE_URL is set: set TRONPAY_USDT_CONTRACT to its USDT contract too");
    }
    return { url: config.nodeUrl, usdtContract: config.usdtContract };
  }
  const devnet = await startDevnet(
    {
      port: config.devnetPort,
      blockTimeMs: config.devnetBlockMs,
      solidLag: config.devnetSolidLag,
      dataDir: paths.devnet,
      stateFile: paths.devnetState,
      persistIntervalMs: 10_000,
      logLevel: config.logLevel,
    },
    log,
  );
  return { url: devnet.url, usdtContract: devnet.usdtAddress, devnet };
}

/** The signer process on dataDir/signer, unlocked with the generated passphrase file. */
export function startSignerChild(
  config: LauncherConfig,
  paths: LauncherPaths,
  usdtContract: string,
): Child {
  return startChild(
    "signer",
    "src/signer/main.ts",
    {
      ...process.env,
      LOG_LEVEL: config.logLevel,
      TRONPAY_SIGNER_DATA_DIR: paths.signer,
      TRONPAY_SIGNER_PASSPHRASE_FILE: paths.passphrase,
      TRONPAY_SIGNER_SCRYPT_LOG_N: String(config.scryptLogN),
      TRONPAY_USDT_CONTRACT: usdtContract,
    },
    join(paths.logs, "signer.log"),
  );
}

/** The core process against the chosen database, node and signer socket. */
export function startCoreChild(
  config: LauncherConfig,
  paths: LauncherPaths,
  db: Database,
  node: Node,
): Child {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: config.logLevel,
    DATABASE_URL: db.url,
    TRONPAY_DATABASE_POOL_SIZE: String(db.poolSize),
    TRON_NODE_URL: node.url,
    TRONPAY_USDT_CONTRACT: node.usdtContract,
    TRONPAY_SIGNER_SOCKET: paths.signerSocket,
    TRONPAY_CORE_PORT: String(config.corePort),
  };
  if (config.redisUrl !== "") env.REDIS_URL = config.redisUrl;
  return startChild("core", "src/core/main.ts", env, join(paths.logs, "core.log"));
}

const EDGE_ENTRY = "src/edge/main.ts";

/** The edge process in front of core, when its entry point exists in this checkout. */
export function startEdgeChild(
  config: LauncherConfig,
  paths: LauncherPaths,
  coreUrl: string,
): Child | undefined {
  if (!existsSync(new URL(`../../${EDGE_ENTRY}`, import.meta.url))) return undefined;
  return startChild(
    "edge",
    EDGE_ENTRY,
    {
      ...process.env,
      LOG_LEVEL: config.logLevel,
      TRONPAY_CORE_URL: coreUrl,
      TRONPAY_EDGE_PORT: String(config.edgePort),
    },
    join(paths.logs, "edge.log"),
  );
}
