import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { type RunningDevnet, startDevnet } from "../devnet/devnet.js";
import type { Logger } from "../shared/log.js";
import { type Child, entryFile, startChild } from "./child.js";
import type { LauncherConfig, LauncherPaths } from "./config.js";
import { NODE_FLAGS } from "./node-flags.js";
import { type EmbeddedPostgres, PGLITE_POOL_SIZE, startEmbeddedPostgres } from "./postgres.js";

/**
 * Where core finds its database: DATABASE_URL, or 127.0.0.1:`embeddedPort`, where the embedded
 * database serves core once the launcher has set it up (core waits for it meanwhile).
 */
export interface DatabasePlan {
  url: string;
  poolSize: number;
  embeddedPort?: number;
}

/** The database plan: DATABASE_URL when set, else PGlite on TRONPAY_PG_PORT or a free port. */
export async function planDatabase(config: LauncherConfig): Promise<DatabasePlan> {
  if (config.databaseUrl !== "") return { url: config.databaseUrl, poolSize: 10 };
  const port = config.pgPort !== 0 ? config.pgPort : await freePort();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    poolSize: PGLITE_POOL_SIZE,
    embeddedPort: port,
  };
}

/**
 * Opens PGlite in dataDir/pg for the plan's embedded database, serving the launcher's own
 * setup on a port of its own (core's port opens only after: one client at a time).
 */
export async function openEmbedded(
  plan: DatabasePlan,
  paths: LauncherPaths,
): Promise<EmbeddedPostgres | undefined> {
  if (plan.embeddedPort === undefined) return undefined;
  return startEmbeddedPostgres(paths.pg, 0);
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
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
    "signer/main",
    {
      ...process.env,
      LOG_LEVEL: config.logLevel,
      TRONPAY_SIGNER_DATA_DIR: paths.signer,
      TRONPAY_SIGNER_PASSPHRASE_FILE: paths.passphrase,
      TRONPAY_SIGNER_SCRYPT_LOG_N: String(config.scryptLogN),
      TRONPAY_USDT_CONTRACT: usdtContract,
    },
    join(paths.logs, "signer.log"),
    NODE_FLAGS.signer,
  );
}

/**
 * The key core and the edge share for the client origin the edge states (allowed_ips and
 * onion_only through the edge): the operator's, or a new one per launch, never stored.
 */
const FORWARD_SECRET =
  process.env.TRONPAY_EDGE_FORWARD_SECRET || randomBytes(32).toString("base64url");

/** How long core waits for the database, and the launcher for core (s). */
export const CORE_DATABASE_WAIT_SEC = 300;

/** The core process against the chosen database, node and signer socket. */
export function startCoreChild(
  config: LauncherConfig,
  paths: LauncherPaths,
  db: DatabasePlan,
  node: Node,
): Child {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: config.logLevel,
    DATABASE_URL: db.url,
    TRONPAY_DATABASE_POOL_SIZE: String(db.poolSize),
    // Core starts with the devnet, before the database is ready (PGlite's first start takes
    // tens of seconds): it loads its code meanwhile and waits for the database.
    TRONPAY_DATABASE_WAIT_SEC: String(CORE_DATABASE_WAIT_SEC),
    TRONPAY_CORE_DATA_DIR: paths.core,
    TRON_NODE_URL: node.url,
    TRONPAY_USDT_CONTRACT: node.usdtContract,
    TRONPAY_SIGNER_SOCKET: paths.signerSocket,
    TRONPAY_CORE_PORT: String(config.corePort),
    TRONPAY_EDGE_FORWARD_SECRET: FORWARD_SECRET,
  };
  if (config.redisUrl !== "") env.REDIS_URL = config.redisUrl;
  return startChild("core", "core/app/main", env, join(paths.logs, "core.log"), NODE_FLAGS.core);
}

const EDGE_ENTRY = "edge/main";

/** The edge process in front of core, when its entry point exists in this checkout. */
export function startEdgeChild(
  config: LauncherConfig,
  paths: LauncherPaths,
  coreUrl: string,
): Child | undefined {
  if (!existsSync(entryFile(EDGE_ENTRY))) return undefined;
  return startChild(
    "edge",
    EDGE_ENTRY,
    {
      ...process.env,
      LOG_LEVEL: config.logLevel,
      TRONPAY_CORE_URL: coreUrl,
      TRONPAY_EDGE_PORT: String(config.edgePort),
      // The onion service's key and the edge's other files follow the data directory.
      TRONPAY_EDGE_DATA_DIR: paths.edge,
      TRONPAY_EDGE_FORWARD_SECRET: FORWARD_SECRET,
    },
    join(paths.logs, "edge.log"),
    NODE_FLAGS.edge,
  );
}
