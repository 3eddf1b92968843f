import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { bootstrapAdminKey } from "../../src/core/auth/keys.js";
import { Keystore } from "../../src/signer/keystore.js";
import { startTestDevnet, type TestNet } from "../devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "./db.js";
import { startProcess, type TestProcess } from "./process.js";

/** The three real parts a payout needs: devnet (in process), signer and core (processes). */
export interface Stack {
  net: TestNet;
  db: TestDatabase;
  signer: TestProcess;
  core: TestProcess;
  coreUrl: string;
  adminKey: string;
  signerEnv: Record<string, string>;
  coreEnv: Record<string, string>;
  client<S extends DescService>(service: S, key?: string): Client<S>;
  restartCore(): Promise<void>;
  restartSigner(): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  coreEnv?: Record<string, string>;
  signerEnv?: Record<string, string>;
  devnet?: Parameters<typeof startTestDevnet>[0];
}

/**
 * Starts a devnet with fast blocks, a fresh database, a signer process with a new keystore
 * (generated passphrase, low scrypt cost) and a core process; creates an admin API key.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const net = await startTestDevnet({
    blockTimeMs: 100,
    autoMine: true,
    solidLag: 2,
    ...options.devnet,
  });
  const db = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), "tp-stack-"));
  const passphrase = randomBytes(24).toString("base64url");
  mkdirSync(join(dir, "signer"), { recursive: true, mode: 0o700 });
  await Keystore.create(join(dir, "signer", "keystore.age"), { passphrase, scryptLogN: 4 });
  const socket = join(dir, "signer", "signer.sock");
  const signerEnv = {
    TRONPAY_SIGNER_DATA_DIR: join(dir, "signer"),
    TRONPAY_SIGNER_PASSPHRASE: passphrase,
    TRONPAY_SIGNER_SCRYPT_LOG_N: "4",
    TRONPAY_USDT_CONTRACT: net.devnet.usdtAddress,
    TRONPAY_SIGNER_REPLACEMENT_MARGIN_SEC: "1",
    ...options.signerEnv,
  };
  const coreEnv = {
    DATABASE_URL: db.url,
    TRON_NODE_URL: net.devnet.url,
    TRONPAY_USDT_CONTRACT: net.devnet.usdtAddress,
    TRONPAY_SIGNER_SOCKET: socket,
    TRONPAY_CORE_PORT: "0",
    TRONPAY_CORE_ADMIN_PORT: "0",
    TRONPAY_CORE_DATA_DIR: join(dir, "core"),
    TRONPAY_CORE_POLL_MS: "50",
    TRONPAY_REBROADCAST_MS: "1000",
    TRONPAY_REPLACEMENT_MARGIN_SEC: "1",
    TRONPAY_TX_LIFETIME_SEC: "20",
    ...options.coreEnv,
  };
  let signer = startProcess("src/signer/main.ts", signerEnv);
  await signer.waitForLog("signer ready");
  let core = startProcess("src/core/app/main.ts", coreEnv);
  const ready = await core.waitForLog("core ready");
  let coreUrl = String(ready.url);
  const admin = await bootstrapAdminKey(db.pool, "test admin");
  if (!admin) throw new Error("the test database already had an API key");

  const stack: Stack = {
    net,
    db,
    signer,
    core,
    coreUrl,
    adminKey: admin.key,
    signerEnv,
    coreEnv,
    client(service, key = admin.key) {
      const auth: Interceptor = (next) => (req) => {
        req.header.set("authorization", `Bearer ${key}`);
        return next(req);
      };
      return createClient(
        service,
        createConnectTransport({ httpVersion: "2", baseUrl: stack.coreUrl, interceptors: [auth] }),
      );
    },
    async restartCore() {
      await core.kill9();
      core = startProcess("src/core/app/main.ts", coreEnv);
      stack.core = core;
      coreUrl = String((await core.waitForLog("core ready")).url);
      stack.coreUrl = coreUrl;
    },
    async restartSigner() {
      await signer.kill9();
      signer = startProcess("src/signer/main.ts", signerEnv);
      stack.signer = signer;
      await signer.waitForLog("signer ready");
    },
    async stop() {
      await Promise.allSettled([core.stop(), signer.stop()]);
      await net.stop();
      await db.drop();
    },
  };
  return stack;
}
