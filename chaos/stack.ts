import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { bootstrapAdminKey } from "../src/core/auth/keys.js";
import { WalletPurpose, WalletService } from "../src/gen/tronpay/v1/wallet_pb.js";
import { NODE_FLAGS } from "../src/launcher/node-flags.js";
import { Keystore } from "../src/signer/keystore.js";
import { startTestDevnet, type TestNet } from "../test/devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "../test/helpers/db.js";
import { freePort, Supervised } from "./procs.js";

/**
 * The real parts, as separate supervised processes on fixed loopback ports: a devnet in this
 * process, a fresh database, one signer, `cores` core processes and (when it starts) the edge,
 * pointed at the first core.
 */
export interface ChaosStack {
  net: TestNet;
  db: TestDatabase;
  signer: Supervised;
  cores: Supervised[];
  coreUrls: string[];
  /** Undefined when the edge did not start; `edgeSkip` says why. */
  edge: Supervised | undefined;
  edgeUrl: string;
  edgeSkip: string;
  adminKey: string;
  transport(url: string): Transport;
  client<S extends DescService>(service: S, url: string): Client<S>;
  stop(): Promise<void>;
}

export interface ChaosStackOptions {
  cores: number;
  coreEnv: Record<string, string>;
  devnet: { blockTimeMs: number; solidLag: number };
  withEdge: boolean;
  /** Run the built code (dist/, from npm run build) instead of src/ through tsx. */
  built?: boolean;
  /** Node flags for the cores (a profile run passes --cpu-prof). */
  coreNodeArgs?: string[];
}

/** The entry of a process: src/<name>.ts, or dist/<name>.js when built. */
const entryOf = (o: { built?: boolean }, name: string) =>
  o.built ? `dist/${name}.js` : `src/${name}.ts`;

/** Built code runs with the V8 flags npm start and the manifests give each process. */
const flagsOf = (o: { built?: boolean }, name: keyof typeof NODE_FLAGS): string[] =>
  o.built ? [...NODE_FLAGS[name]] : [];

/**
 * Starts everything and creates an admin API key. If any part fails to start, what did start
 * is stopped before the error is thrown: a supervised process left behind would keep
 * restarting, with nobody to stop it.
 */
export async function startChaosStack(o: ChaosStackOptions): Promise<ChaosStack> {
  const started: { procs: Supervised[]; net?: TestNet; db?: TestDatabase; dir?: string } = {
    procs: [],
  };
  const stop = async () => {
    await Promise.allSettled(started.procs.map((p) => p.stop()));
    await started.net?.stop();
    await started.db?.drop();
    if (started.dir) rmSync(started.dir, { recursive: true, force: true });
  };
  try {
    return await startParts(o, started, stop);
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

async function startParts(
  o: ChaosStackOptions,
  started: { procs: Supervised[]; net?: TestNet; db?: TestDatabase; dir?: string },
  stop: () => Promise<void>,
): Promise<ChaosStack> {
  const net = await startTestDevnet({ ...o.devnet, autoMine: true });
  started.net = net;
  const db = await createTestDatabase();
  started.db = db;
  const dir = mkdtempSync(join(tmpdir(), "tp-chaos-"));
  started.dir = dir;
  const signer = await startSigner(dir, net.devnet.usdtAddress, started.procs, o);
  const socket = join(dir, "signer", "signer.sock");
  const ports = await Promise.all(Array.from({ length: o.cores }, () => freePort()));
  const adminPorts = await Promise.all(Array.from({ length: o.cores }, () => freePort()));
  // Webhook secrets are encrypted at rest with this key; one per run, shared by the cores.
  const webhookKey = randomBytes(32).toString("base64");
  // The edge states its clients' origin to the cores under this key (one per run).
  const forwardSecret = randomBytes(32).toString("base64url");
  const cores = ports.map(
    (port, i) =>
      new Supervised({
        name: `core-${String.fromCharCode(97 + i)}`,
        entry: entryOf(o, "core/app/main"),
        readyMsg: "core ready",
        nodeArgs: [...flagsOf(o, "core"), ...(o.coreNodeArgs ?? [])],
        env: {
          ...coreEnv(db.url, net, socket, port, o.coreEnv),
          // Metrics port and data dir per run; both cores share the data dir (one deployment).
          TRONPAY_CORE_ADMIN_PORT: String(adminPorts[i]),
          TRONPAY_CORE_DATA_DIR: join(dir, "core"),
          TRONPAY_WEBHOOK_SECRET_KEY: webhookKey,
          TRONPAY_EDGE_FORWARD_SECRET: forwardSecret,
        },
      }),
  );
  started.procs.push(...cores);
  // The first core applies the migrations; the others start after it.
  await withTimeout(cores[0]?.start() ?? Promise.resolve(), 60_000, "core did not start");
  await withTimeout(
    Promise.all(cores.slice(1).map((c) => c.start())),
    60_000,
    "core did not start",
  );
  const coreUrls = ports.map((p) => `http://127.0.0.1:${p}`);
  const admin = await bootstrapAdminKey(db.pool, "chaos admin");
  if (!admin) throw new Error("the fresh database already had an API key");
  const edgeStart = o.withEdge
    ? await startEdge(dir, coreUrls[0] ?? "", forwardSecret, o)
    : undefined;
  if (edgeStart?.edge) started.procs.push(edgeStart.edge);
  const transport = (url: string) => authedTransport(url, admin.key);
  return {
    net,
    db,
    signer,
    cores,
    coreUrls,
    edge: edgeStart?.edge,
    edgeUrl: edgeStart?.url ?? "",
    edgeSkip: o.withEdge ? (edgeStart?.skip ?? "") : "not requested",
    adminKey: admin.key,
    transport,
    client: (service, url) => createClient(service, transport(url)),
    stop,
  };
}

function coreEnv(
  databaseUrl: string,
  net: TestNet,
  socket: string,
  port: number,
  extra: Record<string, string>,
): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    TRON_NODE_URL: net.devnet.url,
    TRONPAY_USDT_CONTRACT: net.devnet.usdtAddress,
    TRONPAY_SIGNER_SOCKET: socket,
    TRONPAY_CORE_HOST: "127.0.0.1",
    TRONPAY_CORE_PORT: String(port),
    // "core ready" is an info line; the ring buffer keeps memory flat.
    LOG_LEVEL: "info",
    // The harness is one principal sending thousands of writes: not what rate limits are for.
    TRONPAY_RATE_WRITE_PER_MIN: "10000000",
    TRONPAY_RATE_READ_PER_MIN: "10000000",
    TRONPAY_WEBHOOK_ALLOW_LOOPBACK: "true",
    TRONPAY_WEBHOOK_BACKOFF_MS: "500",
    // The receiver is on loopback; a short send timeout keeps a killed core's claims (leased
    // for twice the timeout plus 5 s) well inside the final webhook wait.
    TRONPAY_WEBHOOK_TIMEOUT_MS: "5000",
    ...extra,
  };
}

/** A signer with a new keystore (generated passphrase, low scrypt cost, only in this run). */
async function startSigner(
  dir: string,
  usdtAddress: string,
  procs: Supervised[],
  o: { built?: boolean },
): Promise<Supervised> {
  const passphrase = randomBytes(24).toString("base64url");
  mkdirSync(join(dir, "signer"), { recursive: true, mode: 0o700 });
  await Keystore.create(join(dir, "signer", "keystore.age"), { passphrase, scryptLogN: 4 });
  const signer = new Supervised({
    name: "signer",
    entry: entryOf(o, "signer/main"),
    readyMsg: "signer ready",
    nodeArgs: flagsOf(o, "signer"),
    env: {
      TRONPAY_SIGNER_DATA_DIR: join(dir, "signer"),
      TRONPAY_SIGNER_PASSPHRASE: passphrase,
      TRONPAY_SIGNER_SCRYPT_LOG_N: "4",
      TRONPAY_USDT_CONTRACT: usdtAddress,
      TRONPAY_SIGNER_REPLACEMENT_MARGIN_SEC: "1",
      TRONPAY_SIGNER_MAX_PER_24H_TRX: "100000000",
      TRONPAY_SIGNER_MAX_PER_24H_USDT: "100000000",
    },
  });
  procs.push(signer);
  await withTimeout(signer.start(), 60_000, "signer did not start");
  return signer;
}

/** The edge as a process; a start failure is reported, not fatal (it may be mid-change). */
async function startEdge(
  dir: string,
  coreUrl: string,
  forwardSecret: string,
  o: { built?: boolean },
): Promise<{ edge?: Supervised; url?: string; skip?: string }> {
  const port = await freePort();
  const edge = new Supervised({
    name: "edge",
    entry: entryOf(o, "edge/main"),
    readyMsg: "edge ready",
    nodeArgs: flagsOf(o, "edge"),
    env: {
      TRONPAY_CORE_URL: coreUrl,
      TRONPAY_EDGE_HOST: "127.0.0.1",
      TRONPAY_EDGE_PORT: String(port),
      TRONPAY_EDGE_DATA_DIR: join(dir, "edge"),
      TRONPAY_EDGE_MAX_CONCURRENT: "1024",
      // The harness is one client address with up to 64 calls in flight (the benches): the
      // per-address shares that protect against slow clients would refuse half of them.
      TRONPAY_EDGE_MAX_CONCURRENT_PER_CLIENT: "1024",
      TRONPAY_EDGE_MAX_CONNECTIONS_PER_CLIENT: "1024",
      TRONPAY_EDGE_FORWARD_SECRET: forwardSecret,
      // The edge rate-limits too (like core, one principal sending thousands of writes).
      TRONPAY_RATE_WRITE_PER_MIN: "10000000",
      TRONPAY_RATE_READ_PER_MIN: "10000000",
      LOG_LEVEL: "info",
    },
  });
  try {
    await withTimeout(edge.start(), 30_000, "edge did not log ready within 30 s");
    return { edge, url: `http://127.0.0.1:${port}` };
  } catch (err) {
    await edge.stop();
    return { skip: err instanceof Error ? err.message.split("\n")[0] : String(err) };
  }
}

function authedTransport(url: string, key: string): Transport {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${key}`);
    return next(req);
  };
  return createConnectTransport({ httpVersion: "2", baseUrl: url, interceptors: [auth] });
}

/** Rejects when `p` has not settled within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A payout wallet created through core and funded on the devnet (solidified). */
export async function fundedWallet(
  stack: ChaosStack,
  label: string,
  amounts: { trxSun: bigint; usdt: bigint },
): Promise<{ id: string; address: string }> {
  const { wallet } = await stack.client(WalletService, stack.coreUrls[0] ?? "").createWallet({
    idempotencyKey: `wallet-${label}`,
    label,
    purpose: WalletPurpose.PAYOUT,
  });
  if (!wallet) throw new Error("CreateWallet answered without a wallet");
  stack.net.devnet.admin.fund(wallet.address, { trx: amounts.trxSun, usdt: amounts.usdt });
  stack.net.solidify();
  return { id: wallet.id, address: wallet.address };
}
