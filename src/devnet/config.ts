import { z } from "zod";
import { type ConfigInputs, type ConfigSpec, loadConfig, zc } from "../shared/config.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The devnet's settings; every figure that java-tron reads from chain parameters is here. */
export const devnetSchema = z.object({
  host: z.string().default("127.0.0.1"),
  /** 0 picks a free port (tests). */
  port: zc.port().default(8090),
  blockTimeMs: z.coerce.number().int().min(2).default(3000),
  /** false: blocks only on demand (/admin/mine); tests use this for determinism. */
  autoMine: zc.bool().default(true),
  /** Blocks between head and the solidified block (java-tron: 19 of 27 witnesses). */
  solidLag: zc.nonNegativeInt().default(19),
  /** Where the generated genesis key (0600) and, by default, the state file live. */
  dataDir: z.string().default(".data/devnet"),
  /** When set, chain and state are loaded from here at start and saved periodically. */
  stateFile: z.string().optional(),
  persistIntervalMs: zc.positiveInt().default(30_000),
  /** Hex private key of the genesis account; otherwise generated once into dataDir. */
  genesisPrivateKey: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/)
    .optional(),
  genesisTrxSun: z.coerce.bigint().default(1_000_000_000_000_000n),
  genesisUsdt: z.coerce.bigint().default(1_000_000_000_000_000n),
  unstakeWaitMs: zc.nonNegativeInt().default(14 * DAY_MS),
  maxPendingUnfreezes: zc.positiveInt().default(32),
  energyPriceSun: z.coerce.bigint().default(100n),
  bandwidthPriceSun: z.coerce.bigint().default(1000n),
  freeNetLimit: z.coerce.bigint().default(600n),
  /** Simplification: a staked TRX yields a fixed amount per day (see resources.ts). */
  energyPerTrx: z.coerce.bigint().default(10n),
  netPerTrx: z.coerce.bigint().default(1n),
  createAccountFeeSun: z.coerce.bigint().default(1_000_000n),
  createAccountBandwidthFeeSun: z.coerce.bigint().default(100_000n),
  memoFeeSun: z.coerce.bigint().default(1_000_000n),
  maxFeeLimitSun: z.coerce.bigint().default(15_000_000_000n),
  logLevel: z.string().default("info"),
});

/** Validated devnet configuration. */
export type DevnetConfig = z.infer<typeof devnetSchema>;

/** Partial input accepted by startDevnet (tests pass plain values). */
export type DevnetConfigInput = z.input<typeof devnetSchema>;

/** Where each key may come from besides its default. */
export const devnetConfigSpec: ConfigSpec<typeof devnetSchema> = {
  schema: devnetSchema,
  sources: {
    host: { env: "DEVNET_HOST", flag: "host" },
    port: { env: "DEVNET_PORT", flag: "port" },
    blockTimeMs: { env: "DEVNET_BLOCK_TIME_MS", flag: "block-time-ms" },
    solidLag: { env: "DEVNET_SOLID_LAG", flag: "solid-lag" },
    autoMine: { env: "DEVNET_AUTO_MINE", flag: "auto-mine" },
    dataDir: { env: "DEVNET_DATA_DIR", flag: "data-dir" },
    stateFile: { env: "DEVNET_STATE_FILE", flag: "state-file" },
    persistIntervalMs: { env: "DEVNET_PERSIST_INTERVAL_MS" },
    genesisPrivateKey: { env: "DEVNET_GENESIS_PRIVATE_KEY", secret: true },
    unstakeWaitMs: { env: "DEVNET_UNSTAKE_WAIT_MS", flag: "unstake-wait-ms" },
    energyPriceSun: { env: "DEVNET_ENERGY_PRICE_SUN" },
    energyPerTrx: { env: "DEVNET_ENERGY_PER_TRX" },
    netPerTrx: { env: "DEVNET_NET_PER_TRX" },
    logLevel: { env: "LOG_LEVEL", flag: "log-level" },
  },
};

/** Loads the devnet config from flags, env and defaults (flag > env > default). */
export function loadDevnetConfig(inputs: ConfigInputs): Readonly<DevnetConfig> {
  return loadConfig(devnetConfigSpec, inputs);
}

/** Validates a programmatic config (tests); throws on a bad value. */
export function parseDevnetConfig(input: DevnetConfigInput): DevnetConfig {
  return devnetSchema.parse(input);
}
