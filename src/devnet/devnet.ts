import { parseAddress, toBase58, toHex41 } from "../shared/address.js";
import { createLogger, type Logger } from "../shared/log.js";
import { addressFromPrivateKey } from "../tron/keys.js";
import { Chain } from "./chain.js";
import { type DevnetConfig, type DevnetConfigInput, parseDevnetConfig } from "./config.js";
import { type FaultSettings, Faults } from "./faults.js";
import { DevnetNode } from "./node.js";
import { loadChain, loadOrCreateGenesisKey, saveChain } from "./persist.js";
import { type AdminDeps, adminRoutes } from "./routes/admin.js";
import { eventsHandler } from "./routes/events.js";
import { solidityRoutes } from "./routes/solidity.js";
import { walletRoutes } from "./routes/wallet.js";
import {
  type ConnectionEntry,
  ConnectionLog,
  createDevnetServer,
  listen,
  type RouteTable,
} from "./server.js";
import { newAccount, WorldState } from "./state.js";
import { type StateMap, TrackedState } from "./store.js";
import { labelAddress, USDT_ADDRESS } from "./usdt.js";

/** A running devnet, for main.ts and tests. */
export interface RunningDevnet {
  readonly url: string;
  /** base58 */
  readonly usdtAddress: string;
  readonly genesis: {
    readonly address: string;
    readonly privateKey: string;
    readonly keyFile?: string;
  };
  readonly node: DevnetNode;
  readonly admin: {
    fund(address: string, amounts: { trx?: bigint; usdt?: bigint }): void;
    mine(blocks?: number): number;
    setFaults(patch: Partial<FaultSettings>): FaultSettings;
    setTiming(t: { blockTimeMs?: number; solidLag?: number; autoMine?: boolean }): void;
    advanceClock(ms: number): void;
    connections(): ConnectionEntry[];
    /** HTTP requests served so far, by path. */
    requestCounts(): Record<string, number>;
    snapshot(): string | undefined;
  };
  stop(): Promise<void>;
}

const WITNESS = toHex41(labelAddress("tronpay devnet witness"));

/** Starts the devnet: state (loaded or genesis), block timer, HTTP server. */
export async function startDevnet(
  input: DevnetConfigInput = {},
  log?: Logger,
  clock: () => number = Date.now,
): Promise<RunningDevnet> {
  const config = parseDevnetConfig(input);
  const logger = log ?? createLogger({ name: "devnet", level: config.logLevel });
  const key = loadOrCreateGenesisKey(config.dataDir, config.genesisPrivateKey);
  const genesisAddress = toBase58(addressFromPrivateKey(key.privateKey));
  const { chain, loaded } = openChain(config, toHex41(parseAddress(genesisAddress)), clock());
  const node = new DevnetNode(config, chain, new Faults(), logger, clock);
  const connections = new ConnectionLog();
  const stateFile = config.stateFile;
  const persistNow = () => {
    if (stateFile) saveChain(stateFile, chain.data);
    return stateFile;
  };
  const routes = buildRoutes(node, { node, connections, genesisAddress, persistNow });
  const server = createDevnetServer(routes, node.faults, connections, logger);
  const bound = await listen(server, config.host, config.port);
  if (config.autoMine) node.startTimer();
  const persistTimer = stateFile
    ? setInterval(persistNow, config.persistIntervalMs).unref()
    : undefined;
  const host = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  const url = `http://${host}:${bound.port}`;
  logger.info(
    { url, loaded, head: chain.head.number, genesisAddress, genesisKeyFile: key.file },
    "devnet started",
  );
  return {
    url,
    usdtAddress: toBase58(USDT_ADDRESS),
    genesis: {
      address: genesisAddress,
      privateKey: Buffer.from(key.privateKey).toString("hex"),
      keyFile: key.file,
    },
    node,
    admin: adminHelpers(node, connections, persistNow),
    async stop() {
      node.stopTimer();
      if (persistTimer) clearInterval(persistTimer);
      persistNow();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The chain from the state file when there is one, else a new genesis. */
function openChain(
  config: DevnetConfig,
  genesisHex: string,
  now: number,
): { chain: Chain; loaded: boolean } {
  const timing = { blockTimeMs: config.blockTimeMs, solidLag: config.solidLag };
  const data = config.stateFile ? loadChain(config.stateFile) : undefined;
  if (data) return { chain: new Chain(data, WITNESS, timing), loaded: true };
  const genesis = genesisState(config, genesisHex, now);
  return { chain: Chain.genesis(genesis, WITNESS, timing, now), loaded: false };
}

function buildRoutes(node: DevnetNode, admin: AdminDeps): RouteTable {
  const health = () => ({ ok: true, head: node.chain.head.number });
  return {
    exact: new Map([
      ...walletRoutes(node),
      ...solidityRoutes(node),
      ...adminRoutes(admin),
      ["/healthcheck", health],
      ["/", health],
    ]),
    prefixes: [["/v1/", eventsHandler(node)]],
  };
}

function adminHelpers(
  node: DevnetNode,
  connections: ConnectionLog,
  persistNow: () => string | undefined,
): RunningDevnet["admin"] {
  return {
    fund: (address, { trx = 0n, usdt = 0n }) => {
      node.fund(toHex41(parseAddress(address)), trx, usdt);
    },
    mine: (blocks = 1) => node.mine(blocks).number,
    setFaults: (patch) => node.setFaults(patch),
    setTiming: (t) => node.setTiming(t),
    advanceClock: (ms) => {
      node.advanceClock(ms);
    },
    connections: () => connections.snapshot(),
    requestCounts: () => connections.pathCounts(),
    snapshot: persistNow,
  };
}

function genesisState(config: DevnetConfig, genesisHex: string, now: number): StateMap {
  const map: StateMap = new Map();
  const ws = new WorldState(new TrackedState(map));
  ws.putAccount(genesisHex, newAccount(now, config.genesisTrxSun));
  // The contract exists as an account, so sending TRX to it does not create one.
  ws.putAccount(toHex41(USDT_ADDRESS), newAccount(now));
  if (config.genesisUsdt > 0n) {
    ws.setTokenBalance(genesisHex, config.genesisUsdt);
    ws.setTokenSupply(config.genesisUsdt);
  }
  return map;
}
