import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import pino from "pino";
import { toBase58 } from "../shared/address.js";
import { createLogger, type Logger } from "../shared/log.js";
import { addressFromPrivateKey } from "../tron/keys.js";
import { type BannerFacts, renderBanner } from "./banner.js";
import { DEMO_FUNDING, ensureWallets, FEE_FUNDING, prepareDatabase } from "./bootstrap.js";
import type { Child } from "./child.js";
import { type LauncherConfig, launcherPaths } from "./config.js";
import {
  type Database,
  type Node,
  openNode,
  openSystemDatabase,
  startCoreChild,
  startEdgeChild,
  startSignerChild,
} from "./parts.js";
import { ensureKeystore } from "./signer-setup.js";
import { readLauncherState, writeLauncherState } from "./state.js";

/** A running system: the text to print, and how to stop it. */
export interface RunningSystem {
  banner: string;
  /** Resolves with the name of the first child that exits on its own. */
  childExited: Promise<string>;
  stop(): Promise<void>;
}

const READY_MS = 60_000;

/**
 * Starts database, node, signer, core (and edge when present), makes the admin key and the
 * demo wallets, and returns the banner. Everything started is stopped again if a step fails.
 */
export async function startSystem(config: LauncherConfig): Promise<RunningSystem> {
  const started = Date.now();
  const paths = launcherPaths(config.dataDir);
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
  const log = fileLogger("launcher", join(paths.logs, "launcher.log"), config.logLevel);
  const parts: { db?: Database; node?: Node; children: Child[] } = { children: [] };
  const stop = () => stopAll(parts, log);
  let dbReady: Promise<unknown> = Promise.resolve();
  try {
    // PGlite's first start (initdb in WebAssembly) is the slow step: overlap it with the rest.
    const adminReady = openSystemDatabase(config, paths).then((db) => {
      parts.db = db;
      return prepareDatabase(db.url, db.poolSize);
    });
    dbReady = adminReady.catch(() => undefined);
    const devnetLog = fileLogger("devnet", join(paths.logs, "devnet.log"), config.logLevel);
    parts.node = await openNode(config, paths, devnetLog);
    const node = parts.node;
    const keystore = await ensureKeystore(paths, config.scryptLogN);
    const signer = startSignerChild(config, paths, node.usdtContract);
    parts.children.push(signer);
    // Core needs the signer only to sign, so both start while PGlite is still opening.
    const signerReady = signer.waitForLog("signer ready", READY_MS);
    signerReady.catch(() => undefined);
    const admin = await adminReady;
    const db = parts.db as Database;
    const core = startCoreChild(config, paths, db, node);
    parts.children.push(core);
    const coreUrl = String((await core.waitForLog("core ready", READY_MS)).url);
    const edgeReady = startEdge(config, paths, coreUrl, parts.children, log);
    await signerReady;
    const state = readLauncherState(paths.state);
    const wallets = await ensureWallets({ url: coreUrl, key: admin.key }, state);
    const fundingNote = fund(node, wallets, state.funded);
    const restUrl = await edgeReady;
    writeLauncherState(paths.state, {
      coreUrl,
      restUrl,
      payoutWallet: wallets.payout,
      feeWallet: wallets.fee,
      funded: [...new Set([...state.funded, wallets.payout.address, wallets.fee.address])],
    });
    log.info({ coreUrl, restUrl, keyId: admin.id }, "launcher ready");
    const facts: BannerFacts = {
      coreUrl,
      restUrl,
      adminKey: admin.key,
      payoutWallet: wallets.payout,
      exampleRecipient: toBase58(addressFromPrivateKey(secp256k1.utils.randomSecretKey())),
      fundingNote,
      nodeUrl: node.url,
      devnet: node.devnet !== undefined,
      databaseNote: db.embedded ? `embedded PGlite in ${paths.pg}` : "DATABASE_URL",
      keystore: keystore.keystore,
      keystoreCreated: keystore.created,
      signerDir: paths.signer,
      passphraseFile: keystore.passphraseFile,
      logsDir: paths.logs,
      elapsedMs: Date.now() - started,
    };
    const childExited = Promise.race(parts.children.map((c) => c.exited.then(() => c.name)));
    return { banner: renderBanner(facts), childExited, stop };
  } catch (err) {
    await dbReady;
    await stop().catch(() => {});
    throw err;
  }
}

/** Starts the edge if this checkout has one; its REST URL, or undefined when it does not run. */
async function startEdge(
  config: LauncherConfig,
  paths: ReturnType<typeof launcherPaths>,
  coreUrl: string,
  children: Child[],
  log: Logger,
): Promise<string | undefined> {
  const edge = startEdgeChild(config, paths, coreUrl);
  if (!edge) return undefined;
  children.push(edge);
  try {
    const ready = await edge.waitForLog("edge ready", 20_000);
    return typeof ready.url === "string" ? ready.url : `http://127.0.0.1:${config.edgePort}`;
  } catch (err) {
    // The edge is optional for the demo: say why in the log and run without REST.
    log.warn({ err: err instanceof Error ? err.message : String(err) }, "edge did not start");
    children.splice(children.indexOf(edge), 1);
    await edge.stop(2_000);
    return undefined;
  }
}

/** Funds demo wallets not funded before on this devnet; the banner's note when it cannot. */
function fund(
  node: Node,
  wallets: { payout: { address: string }; fee: { address: string } },
  funded: readonly string[],
): string | undefined {
  if (!node.devnet) return "not funded: TRON_NODE_URL is not the devnet; send it TRX and USDT";
  if (!funded.includes(wallets.payout.address)) {
    node.devnet.admin.fund(wallets.payout.address, DEMO_FUNDING);
  }
  if (!funded.includes(wallets.fee.address))
    node.devnet.admin.fund(wallets.fee.address, FEE_FUNDING);
  return undefined;
}

/** Stops core (and edge), signer, devnet (saving its state) and the database, in that order. */
async function stopAll(
  parts: { db?: Database; node?: Node; children: Child[] },
  log: Logger,
): Promise<void> {
  for (const child of [...parts.children].reverse()) {
    await child.stop();
    log.info({ child: child.name }, "stopped");
  }
  parts.children.length = 0;
  await parts.node?.devnet?.stop();
  parts.node = undefined;
  await parts.db?.embedded?.stop();
  parts.db = undefined;
  log.info("all stopped");
}

function fileLogger(name: string, file: string, level: string): Logger {
  return createLogger({ name, level, destination: pino.destination({ dest: file, sync: true }) });
}
