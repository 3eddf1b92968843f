import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newTestAccount } from "../devnet/helpers.js";
import { childCoverageEnv } from "../helpers/coverage.js";
import { fundedWallet } from "../helpers/payouts.js";
import { type Stack, startStack } from "../helpers/stack.js";

// The check, end to end: the real `tronpay` command (bin/tronpay.js, a child process)
// submits a 1,000-line CSV to a running core and signer on a devnet with 100 ms blocks, and
// ends with 1,000 confirmed. Its stdout is a pipe, not a TTY: the CLI then draws the bar once,
// when the batch is done (redrawing it in place needs a terminal), so the final bar and the
// summary table are what this test reads.
const ROWS = 1000;
const ROOT = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "tp-csv1000-"));
let stack: Stack;
let wallet: { id: string; address: string };

beforeAll(async () => {
  stack = await startStack({ coreEnv: { TRONPAY_CORE_WORKERS: "32" } });
  wallet = await fundedWallet(stack, 1_000_000n, 1_000_000n);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs bin/tronpay.js with `args`; resolves with its exit code and output. */
function tronpay(
  args: string[],
  ms: number,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/tronpay.js", ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...childCoverageEnv() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`tronpay ${args.join(" ")} ran over ${ms} ms:\n${out}\n${err}`));
    }, ms);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** Row i pays (i + 1) × 0.0001 of USDT (even rows) or TRX (odd rows) to a fresh address. */
function rows() {
  return Array.from({ length: ROWS }, (_, i) => ({
    to: newTestAccount().address,
    amount: `0.${String(i + 1).padStart(4, "0")}`,
    asset: i % 2 === 0 ? "USDT" : "TRX",
    base: BigInt(i + 1) * 100n,
  }));
}

describe("tronpay batch submit with a 1,000-line CSV (the real CLI process)", () => {
  it("submits the file, shows the finished bar and a summary of 1,000 confirmed, and pays each row once", async () => {
    const lines = rows();
    const file = join(dir, "payouts.csv");
    writeFileSync(
      file,
      [
        "to,amount,asset,reference",
        ...lines.map((r, i) => `${r.to},${r.amount},${r.asset},row-${i + 1}`),
      ].join("\n"),
    );
    const started = Date.now();
    const run = await tronpay(
      [
        "batch",
        "submit",
        file,
        "--wallet",
        wallet.id,
        "--url",
        stack.coreUrl,
        "--key",
        stack.adminKey,
      ],
      420_000,
    );
    console.log(
      `tronpay batch submit of ${ROWS} rows: ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    // No failure line (the CLI's are "tronpay: <reason>"); stderr may carry Node's warnings.
    expect(run.err).not.toMatch(/^tronpay:/m);
    expect(run.code).toBe(0);
    const batchId = /^Batch (\S+): 1000 payouts accepted\.$/m.exec(run.out)?.[1];
    expect(batchId, run.out).toBeTruthy();
    expect(run.out).toContain(`[${"#".repeat(30)}] 1000/1000  CONFIRMED 1000`);
    expect(run.out).toContain(`Batch ${batchId}: COMPLETED`);
    expect(run.out).toMatch(/^STATE\s+PAYOUTS\nCONFIRMED\s+1000\n/m);

    // The devnet's chain: every recipient holds exactly its row's amount, and the payer's USDT
    // went down by exactly their sum (TRX also paid fees, so only USDT is summed).
    const tronWeb = stack.net.tronWeb();
    const usdt = await tronWeb.contract().at(stack.net.devnet.usdtAddress);
    const balance = async (r: (typeof lines)[number]) =>
      r.asset === "USDT"
        ? BigInt(String(await usdt.balanceOf(r.to).call()))
        : BigInt(await tronWeb.trx.getBalance(r.to));
    const paid: bigint[] = [];
    for (let i = 0; i < lines.length; i += 50) {
      paid.push(...(await Promise.all(lines.slice(i, i + 50).map(balance))));
    }
    expect(paid).toEqual(lines.map((r) => r.base));
    const usdtSent = lines.filter((r) => r.asset === "USDT").reduce((n, r) => n + r.base, 0n);
    const left = BigInt(String(await usdt.balanceOf(wallet.address).call()));
    expect(left).toBe(1_000_000n * 1_000_000n - usdtSent);
  }, 600_000);
});
