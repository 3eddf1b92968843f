import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { connectClient } from "../../src/cli/client.js";
import { createRequest, watchPayout } from "../../src/cli/payouts.js";
import { PayoutService, PayoutState } from "../../src/gen/tronpay/v1/payout_pb.js";
import { WalletService } from "../../src/gen/tronpay/v1/wallet_pb.js";
import { readLauncherState } from "../../src/launcher/state.js";
import { newTestAccount } from "../devnet/helpers.js";
import { childCoverageEnv } from "../helpers/coverage.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), "tp-launch-"));
let running: ChildProcess | undefined;
// A fixed core port, as `npm start` has by default: the launcher then starts the edge at once.
const corePort = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address() as AddressInfo;
    probe.close(() => resolve(port));
  });
});

/** Starts `npm start`'s entry point on dataDir; resolves with its output once the block is printed. */
function launch(): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/launcher/main.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      ...childCoverageEnv(),
      TRONPAY_DATA_DIR: dataDir,
      TRONPAY_DEVNET_BLOCK_MS: "200",
      TRONPAY_DEVNET_SOLID_LAG: "2",
      TRONPAY_DEVNET_PORT: "0",
      TRONPAY_CORE_PORT: String(corePort),
      TRONPAY_CORE_ADMIN_PORT: "0",
      TRONPAY_EDGE_PORT: "0",
      TRONPAY_SIGNER_SCRYPT_LOG_N: "4",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running = child;
  let text = "";
  child.stdout?.on("data", (d: Buffer) => {
    text += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    text += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (text.includes("Ctrl-C stops everything")) {
        clearInterval(timer);
        resolve({ child, out: () => text });
      }
    }, 100);
    child.once("exit", (code) => {
      clearInterval(timer);
      reject(new Error(`launcher exited (${code}) before it was ready:\n${text}`));
    });
  });
}

function stopLauncher(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGINT");
  });
}

/** The facts a person would copy from the printed block. */
function printed(text: string) {
  const grab = (re: RegExp) => {
    const m = re.exec(text);
    if (!m?.[1]) throw new Error(`not in the printed block: ${re}\n${text}`);
    return m[1];
  };
  return {
    coreUrl: grab(/gRPC \/ Connect\s+(\S+)/),
    key: grab(/admin API key\s+(\S+)/),
    walletId: grab(/payout wallet\s+(wal_\S+)/),
  };
}

/** The config a child logged when it started (its latest start), from its log file. */
function startedWith(name: string): Record<string, unknown> {
  const lines = readFileSync(join(dataDir, "logs", `${name}.log`), "utf8")
    .split("\n")
    .filter((l) => l.includes(`"msg":"${name} starting"`));
  const last = lines.at(-1);
  if (!last) throw new Error(`${name} logged no start`);
  return (JSON.parse(last) as { config: Record<string, unknown> }).config;
}

afterAll(async () => {
  if (running && running.exitCode === null) await stopLauncher(running);
  rmSync(dataDir, { recursive: true, force: true });
});

describe("npm start (the launcher as a real process)", () => {
  it("runs everything, confirms a payout made from the printed facts, and resumes it after Ctrl-C", async () => {
    const first = await launch();
    const facts = printed(first.out());
    expect(first.out()).not.toMatch(/mnemonic|recovery phrase/i);
    expect(statSync(join(dataDir, "signer", "passphrase")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, "signer")).mode & 0o777).toBe(0o700);

    const payouts = connectClient(PayoutService, { url: facts.coreUrl, key: facts.key });
    const { payout } = await payouts.createPayout(
      createRequest({
        wallet: facts.walletId,
        to: newTestAccount().address,
        amount: "12.5",
        asset: "USDT",
        route: "V0",
      }),
    );
    const id = payout?.id ?? "";
    const done = await watchPayout(payouts, id, 200, () => {});
    expect(PayoutState[done.state]).toBe("CONFIRMED");
    expect(await stopLauncher(first.child)).toBe(0);
    expect(first.out()).toContain("tronpay: stopped.");

    const firstKeyId = readLauncherState(join(dataDir, "launcher.json")).adminKeyId;
    expect(firstKeyId).toBeTruthy();

    const second = await launch();
    const again = printed(second.out());
    expect(again.walletId).toBe(facts.walletId);
    expect(again.key).not.toBe(facts.key);
    const after = connectClient(PayoutService, { url: again.coreUrl, key: again.key });
    const { payout: kept } = await after.getPayout({ id });
    expect(PayoutState[kept?.state ?? 0]).toBe("CONFIRMED");
    expect(kept?.attempts).toHaveLength(1);

    // The previous run's key stops working; only the id of the new one is kept, never a secret.
    expect(second.out()).toContain(`(${firstKeyId}, revoked now)`);
    const stale = connectClient(WalletService, { url: again.coreUrl, key: facts.key });
    const refused = await stale.listWallets({}).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.Unauthenticated);
    const stateText = readFileSync(join(dataDir, "launcher.json"), "utf8");
    expect(readLauncherState(join(dataDir, "launcher.json")).adminKeyId).not.toBe(firstKeyId);
    expect(stateText).not.toContain(again.key);
    expect(stateText).not.toContain(facts.key);

    // Every process keeps its files under TRONPAY_DATA_DIR (the onion key goes to edge/).
    expect(startedWith("core").dataDir).toBe(join(dataDir, "core"));
    expect(second.out()).toMatch(/REST\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(startedWith("edge").dataDir).toBe(join(dataDir, "edge"));
    expect(startedWith("edge").coreUrl).toBe(`http://127.0.0.1:${corePort}`);
    expect(await stopLauncher(second.child)).toBe(0);
  }, 300_000);
});
