import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connectClient } from "../../src/cli/client.js";
import { createRequest, watchPayout } from "../../src/cli/payouts.js";
import { PayoutService, PayoutState } from "../../src/gen/tronpay/v1/payout_pb.js";
import { NODE_FLAGS } from "../../src/launcher/node-flags.js";
import { newTestAccount } from "../devnet/helpers.js";

const ROOT = new URL("../../", import.meta.url).pathname;
// Inside the checkout, so the built code finds node_modules as dist/ does.
const out = mkdtempSync(join(ROOT, ".dist-test-"));
const dataDir = mkdtempSync(join(tmpdir(), "tp-dist-"));
let running: ChildProcess | undefined;

afterAll(async () => {
  if (running && running.exitCode === null) await stop(running);
  rmSync(out, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGINT");
  });
}

/** The command lines of the launcher's child processes, from /proc. */
function childCommands(pid: number): string[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .flatMap((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid !== pid) return [];
        return [readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0").filter(Boolean)];
      } catch {
        return [];
      }
    })
    .map((argv) => argv.slice(1).join(" "));
}

describe("the built system (dist/, as npm start runs it)", () => {
  it("builds, starts with plain node, confirms a payout on the devnet, and stops", async () => {
    execFileSync("npm", ["run", "build", "--", "--outDir", out], { cwd: ROOT, stdio: "pipe" });
    const corePort = await freePort();
    const child = spawn(process.execPath, [join(out, "launcher/main.js")], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
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
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (text.includes("Ctrl-C stops everything")) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
      child.once("exit", (code) => {
        clearInterval(timer);
        reject(new Error(`launcher exited (${code}) before it was ready:\n${text}`));
      });
    });

    // Core, signer and edge: the built entry points beside the launcher, plain node, no tsx.
    const commands = childCommands(child.pid ?? 0).sort();
    const entry = { core: "core/app", edge: "edge", signer: "signer" } as const;
    const expected = (["core", "edge", "signer"] as const).map((name) =>
      [...NODE_FLAGS[name], join(out, entry[name], "main.js")].join(" "),
    );
    expect(commands).toEqual(expected.sort());

    const grab = (re: RegExp) => re.exec(text)?.[1] ?? "";
    const payouts = connectClient(PayoutService, {
      url: grab(/gRPC \/ Connect\s+(\S+)/),
      key: grab(/admin API key\s+(\S+)/),
    });
    const { payout } = await payouts.createPayout(
      createRequest({
        wallet: grab(/payout wallet\s+(wal_\S+)/),
        to: newTestAccount().address,
        amount: "3",
        asset: "USDT",
        route: "V0",
      }),
    );
    const done = await watchPayout(payouts, payout?.id ?? "", 200, () => {});
    expect(PayoutState[done.state]).toBe("CONFIRMED");
    expect(await stop(child)).toBe(0);
    expect(text).toContain("tronpay: stopped.");
  }, 300_000);
});
