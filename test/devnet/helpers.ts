import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hex } from "@scure/base";
import { TronWeb } from "tronweb";
import type { DevnetConfigInput } from "../../src/devnet/config.js";
import { type RunningDevnet, startDevnet } from "../../src/devnet/devnet.js";
import { toBase58 } from "../../src/shared/address.js";
import { addressFromPrivateKey } from "../../src/tron/keys.js";

/** A fresh key pair; the key exists only in this test run. */
export interface TestAccount {
  readonly privateKey: string;
  readonly address: string;
}

export const TRX = 1_000_000n;

/** Generates a random account (never funded, so not activated). */
export function newTestAccount(): TestAccount {
  const priv = secp256k1.utils.randomSecretKey();
  return { privateKey: hex.encode(priv), address: toBase58(addressFromPrivateKey(priv)) };
}

/** A devnet on a random loopback port, blocks on demand only, in a temp data dir. */
export async function startTestDevnet(overrides: DevnetConfigInput = {}): Promise<TestNet> {
  const dataDir = mkdtempSync(join(tmpdir(), "tronpay-devnet-"));
  const devnet = await startDevnet({
    host: "127.0.0.1",
    port: 0,
    blockTimeMs: 100,
    autoMine: false,
    solidLag: 3,
    dataDir,
    logLevel: "silent",
    ...overrides,
  });
  return new TestNet(devnet, dataDir);
}

/** Test conveniences over a running devnet. */
export class TestNet {
  constructor(
    readonly devnet: RunningDevnet,
    readonly dataDir: string,
  ) {}

  /** Unmodified tronweb pointed at the devnet, signing with `privateKey` (genesis by default). */
  tronWeb(privateKey = this.devnet.genesis.privateKey): TronWeb {
    return new TronWeb({ fullHost: this.devnet.url, privateKey });
  }

  /** Mines enough blocks for everything pooled so far to be solidified. */
  solidify(): void {
    this.devnet.admin.mine(this.devnet.node.chain.solidLag + 1);
  }

  /** Creates an account with TRX (sun) and USDT (base units), solidified. */
  fundedAccount(trxSun: bigint, usdt = 0n): TestAccount {
    const a = newTestAccount();
    this.devnet.admin.fund(a.address, { trx: trxSun, usdt });
    this.solidify();
    return a;
  }

  /** Stops the devnet and removes its data dir unless `keepData` (restart tests). */
  async stop(options: { keepData?: boolean } = {}): Promise<void> {
    await this.devnet.stop();
    if (!options.keepData) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Polls `check` every 10 ms until it returns a value other than undefined, or times out. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("waitFor timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** java-tron's broadcast message field is hex of UTF-8 text. */
export function messageText(message: unknown): string {
  return typeof message === "string" ? Buffer.from(message, "hex").toString("utf8") : "";
}
