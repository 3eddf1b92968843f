import { join, resolve } from "node:path";
import { z } from "zod";
import { type ConfigSpec, loadConfig, zc } from "../shared/config.js";

/** The launcher's one typed config: env > default (it takes no flags). */
export const launcherConfigSpec = {
  schema: z.object({
    /** Everything `npm start` keeps: database, devnet state, keystore, logs, launcher.json. */
    dataDir: z.string().default(".data"),
    /** A real PostgreSQL; empty: the embedded PGlite in dataDir/pg. */
    databaseUrl: z.string().default(""),
    /** A real TRON node; empty: the in-process devnet in dataDir/devnet. */
    nodeUrl: z.string().default(""),
    /** Required with nodeUrl: the TRC-20 USDT contract there (base58). */
    usdtContract: z.string().default(""),
    redisUrl: z.string().default(""),
    devnetBlockMs: z.coerce.number().int().min(2).default(3000),
    /** Blocks between head and solidified on the devnet (java-tron: 19). */
    devnetSolidLag: zc.nonNegativeInt().default(19),
    devnetPort: zc.port().default(8090),
    corePort: zc.port().default(50051),
    edgePort: zc.port().default(8080),
    /** 0 picks a free port for the embedded database. */
    pgPort: zc.port().default(0),
    /**
     * scrypt work factor (log2) for the generated keystore. Lower than the signer's 18 on
     * purpose: the launcher's passphrase is 32 random bytes (256 bits), which no work factor
     * makes harder or easier to guess (it only slows guessing of a chosen passphrase), and it
     * sits in the same directory as the keystore anyway. At 18, the four scrypt runs of a first
     * start (create, the signer's unlock, one save per demo wallet) were about a third of it.
     */
    scryptLogN: zc.positiveInt().max(22).default(14),
    logLevel: z.string().default("info"),
  }),
  sources: {
    dataDir: { env: "TRONPAY_DATA_DIR" },
    databaseUrl: { env: "DATABASE_URL", secret: true },
    nodeUrl: { env: "TRON_NODE_URL" },
    usdtContract: { env: "TRONPAY_USDT_CONTRACT" },
    redisUrl: { env: "REDIS_URL", secret: true },
    devnetBlockMs: { env: "TRONPAY_DEVNET_BLOCK_MS" },
    devnetSolidLag: { env: "TRONPAY_DEVNET_SOLID_LAG" },
    devnetPort: { env: "TRONPAY_DEVNET_PORT" },
    corePort: { env: "TRONPAY_CORE_PORT" },
    edgePort: { env: "TRONPAY_EDGE_PORT" },
    pgPort: { env: "TRONPAY_PG_PORT" },
    scryptLogN: { env: "TRONPAY_SIGNER_SCRYPT_LOG_N" },
    logLevel: { env: "LOG_LEVEL" },
  },
} satisfies ConfigSpec<z.AnyZodObject>;

export type LauncherConfig = z.infer<typeof launcherConfigSpec.schema>;

/** Loads the launcher's config from the environment. */
export function loadLauncherConfig(env: NodeJS.ProcessEnv): Readonly<LauncherConfig> {
  return loadConfig(launcherConfigSpec, { env });
}

/** Where each part keeps its files under the data directory (absolute paths). */
export function launcherPaths(dataDir: string) {
  const root = resolve(dataDir);
  return {
    root,
    pg: join(root, "pg"),
    devnet: join(root, "devnet"),
    devnetState: join(root, "devnet", "chain.json"),
    signer: join(root, "signer"),
    passphrase: join(root, "signer", "passphrase"),
    keystore: join(root, "signer", "keystore.age"),
    signerSocket: join(root, "signer", "signer.sock"),
    core: join(root, "core"),
    edge: join(root, "edge"),
    logs: join(root, "logs"),
    state: join(root, "launcher.json"),
  };
}

export type LauncherPaths = ReturnType<typeof launcherPaths>;
