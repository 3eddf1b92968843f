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
import { type LauncherConfig, type LauncherPaths, launcherPaths } from "./config.js";
import {
  CORE_DATABASE_WAIT_SEC,
  type Node,
  openEmbedded,
  openNode,
  planDatabase,
  startCoreChild,
  startEdgeChild,
  startSignerChild,
} from "./parts.js";
import type { EmbeddedPostgres } from "./postgres.js";
import { ensureKeystore } from "./signer-setup.js";
import { readLauncherState, writeLauncherState } from "./state.js";
import { type PhaseTimer, phaseTimer } from "./timing.js";

/** A running system: the text to print, and how to stop it. */
export interface RunningSystem {
  banner: string;
  /** Resolves with the name of the first child that exits on its own. */
  childExited: Promise<string>;
  stop(): Promise<void>;
}

const READY_MS = 60_000;

/** What is running, for stopping it in order. */
interface Parts {
  embedded?: EmbeddedPostgres;
  node?: Node;
  children: Child[];
}

/**
 * Starts database, node, signer, core (and edge when present), makes the admin key and the
 * demo wallets, and returns the banner. Everything started is stopped again if a step fails.
 */
export async function startSystem(config: LauncherConfig): Promise<RunningSystem> {
  const started = Date.now();
  const paths = launcherPaths(config.dataDir);
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
  const log = fileLogger("launcher", join(paths.logs, "launcher.log"), config.logLevel);
  const parts: Parts = { children: [] };
  const stop = () => stopAll(parts, log);
  // The database opens in the background: after a failure it is let finish (or fail) before
  // stopping, so its thread never outlives the launcher.
  let opening: Promise<unknown> = Promise.resolve();
  const track = <T>(p: Promise<T>): Promise<T> => {
    opening = p.catch(() => undefined);
    return p;
  };
  try {
    const facts = await bringUp(config, paths, parts, track, log);
    const banner = renderBanner({ ...facts, elapsedMs: Date.now() - started });
    const childExited = Promise.race(parts.children.map((c) => c.exited.then(() => c.name)));
    return { banner, childExited, stop };
  } catch (err) {
    await opening;
    await stop().catch(() => {});
    throw err;
  }
}

type Track = <T>(p: Promise<T>) => Promise<T>;

/** A promise awaited later, whose rejection before then is not an unhandled one. */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * The independent slow steps, all at once: PGlite (initdb on the first run, in its own thread),
 * the devnet, core's and the signer's processes (loading their code; core then waits for the
 * database), and the keystore (scrypt). Each phase's time goes to launcher.log.
 */
async function startParts(
  config: LauncherConfig,
  paths: LauncherPaths,
  parts: Parts,
  track: Track,
  t: PhaseTimer,
  log: Logger,
) {
  const plan = await planDatabase(config);
  const embedded = track(
    t.time("database", () =>
      openEmbedded(plan, paths).then((e) => {
        parts.embedded = e;
        return e;
      }),
    ),
  );
  const devnetLog = fileLogger("devnet", join(paths.logs, "devnet.log"), config.logLevel);
  const node = await t.time("devnet", () => openNode(config, paths, devnetLog));
  parts.node = node;
  const core = startCoreChild(config, paths, plan, node);
  parts.children.push(core);
  const coreWaitMs = CORE_DATABASE_WAIT_SEC * 1000 + READY_MS;
  const coreReady = later(t.time("core", () => core.waitForLog("core ready", coreWaitMs)));
  // The edge needs only core's URL, known now unless core picks its port (TRONPAY_CORE_PORT=0).
  const edgeReady =
    config.corePort === 0
      ? undefined
      : later(
          t.time("edge", () =>
            startEdge(config, paths, `http://127.0.0.1:${config.corePort}`, parts.children, log),
          ),
        );
  const keystore = await t.time("keystore", () => ensureKeystore(paths, config.scryptLogN));
  const signer = startSignerChild(config, paths, node.usdtContract);
  parts.children.push(signer);
  const signerReady = later(t.time("signer", () => signer.waitForLog("signer ready", READY_MS)));
  return { plan, embedded, node, coreReady, edgeReady, keystore, signerReady };
}

/**
 * Everything up to the banner: the parts, then the database set up (migrations, this run's
 * admin key) before it is handed to core, then the edge and the demo wallets.
 */
async function bringUp(
  config: LauncherConfig,
  paths: LauncherPaths,
  parts: Parts,
  track: Track,
  log: Logger,
): Promise<Omit<BannerFacts, "elapsedMs">> {
  const t = phaseTimer(log);
  const state = readLauncherState(paths.state);
  const started = await startParts(config, paths, parts, track, t, log);
  const { plan, embedded, node, coreReady, keystore, signerReady } = started;
  const db = await embedded;
  const admin = await t.time("setup", () =>
    prepareDatabase(
      { url: db?.url ?? plan.url, poolSize: plan.poolSize },
      { previousKeyId: state.adminKeyId },
    ),
  );
  // Remembered at once: if this run dies before its banner, the next one still revokes it.
  writeLauncherState(paths.state, { ...state, adminKeyId: admin.id });
  // Set up: the embedded database now serves core (and only core) on core's port.
  if (db && plan.embeddedPort !== undefined) await db.serveOn(plan.embeddedPort);
  const coreUrl = String((await coreReady).url);
  const edgeReady =
    started.edgeReady ??
    later(t.time("edge", () => startEdge(config, paths, coreUrl, parts.children, log)));
  await signerReady;
  const wallets = await t.time("wallets", () =>
    ensureWallets({ url: coreUrl, key: admin.key }, state),
  );
  const fundingNote = fund(node, wallets, state.funded);
  const restUrl = await edgeReady;
  writeLauncherState(paths.state, {
    coreUrl,
    restUrl,
    payoutWallet: wallets.payout,
    feeWallet: wallets.fee,
    funded: [...new Set([...state.funded, wallets.payout.address, wallets.fee.address])],
    adminKeyId: admin.id,
  });
  log.info(
    { coreUrl, restUrl, keyId: admin.id, revokedKeyId: admin.revoked, phases: t.summary() },
    "launcher ready",
  );
  return {
    coreUrl,
    restUrl,
    adminKey: admin.key,
    revokedKeyId: admin.revoked,
    payoutWallet: wallets.payout,
    exampleRecipient: toBase58(addressFromPrivateKey(secp256k1.utils.randomSecretKey())),
    fundingNote,
    nodeUrl: node.url,
    devnet: node.devnet !== undefined,
    databaseNote: db ? `embedded PGlite in ${paths.pg}` : "DATABASE_URL",
    keystore: keystore.keystore,
    keystoreCreated: keystore.created,
    signerDir: paths.signer,
    passphraseFile: keystore.passphraseFile,
    logsDir: paths.logs,
  };
}

/** Starts the edge if this checkout has one; its REST URL, or undefined when it does not run. */
async function startEdge(
  config: LauncherConfig,
  paths: LauncherPaths,
  coreUrl: string,
  children: Child[],
  log: Logger,
): Promise<string | undefined> {
  const edge = startEdgeChild(config, paths, coreUrl);
  if (!edge) return undefined;
  children.push(edge);
  try {
    const ready = await edge.waitForLog("edge ready", READY_MS);
    return typeof ready.url === "string" ? ready.url : `http://127.0.0.1:${config.edgePort}`;
  } catch (err) {
    // The edge is optional for the demo: say why in the log and run without REST.
    log.warn({ err }, "edge did not start");
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
async function stopAll(parts: Parts, log: Logger): Promise<void> {
  for (const child of [...parts.children].reverse()) {
    await child.stop();
    log.info({ child: child.name }, "stopped");
  }
  parts.children.length = 0;
  await parts.node?.devnet?.stop();
  parts.node = undefined;
  await parts.embedded?.stop();
  parts.embedded = undefined;
  log.info("all stopped");
}

function fileLogger(name: string, file: string, level: string): Logger {
  return createLogger({ name, level, destination: pino.destination({ dest: file, sync: true }) });
}
