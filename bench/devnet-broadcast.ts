/**
 * Devnet broadcast throughput: starts the devnet in a child process (so client and server
 * use separate cores), pre-signs N TRX transfers from the genesis account, fires them at
 * /wallet/broadcasttransaction over keep-alive HTTP with bounded concurrency, and prints
 * p50/p99 latency and tx/s per run and the median over the runs.
 *
 *   npm run bench:devnet -- [--n 4000] [--runs 5] [--concurrency 32]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hex } from "@scure/base";
import { parseFlags } from "../src/shared/config.js";
import { refBlockFromBlockId } from "../src/tron/block.js";
import { transactionToJson } from "../src/tron/json.js";
import { addressFromPrivateKey } from "../src/tron/keys.js";
import { signTxId } from "../src/tron/signature.js";
import { encodeTransactionRaw, txIdOf } from "../src/tron/transaction.js";

/** CPU seconds (user + system) a process has used, from /proc; undefined off Linux. */
function cpuSeconds(pid: number | undefined): number | undefined {
  const file = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(file)) return undefined;
  // Fields after the ")" that ends the command name; utime and stime are the 12th and 13th.
  const fields = readFileSync(file, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const flags = parseFlags(process.argv.slice(2));
const N = Number(flags.n ?? 4000);
const RUNS = Number(flags.runs ?? 5);
const CONCURRENCY = Number(flags.concurrency ?? 32);

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(url: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", agent, headers: { "content-type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function startChild(genesisKey: string): Promise<{ child: ChildProcess; url: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), "devnet-bench-"));
  const child = spawn(process.execPath, ["--import", "tsx", "src/devnet/main.ts", "--port", "0"], {
    env: {
      ...process.env,
      DEVNET_GENESIS_PRIVATE_KEY: genesisKey,
      DEVNET_DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`devnet exited with ${code}`)));
  });
  return { child, url };
}

async function signTransfers(
  url: string,
  priv: Uint8Array,
  n: number,
  salt: number,
): Promise<string[]> {
  const head = JSON.parse(await post(`${url}/wallet/getblock`, '{"detail":false}'));
  const number = BigInt(head.block_header.raw_data.number);
  const ref = refBlockFromBlockId(number, head.blockID);
  const ts = BigInt(head.block_header.raw_data.timestamp);
  const owner = addressFromPrivateKey(priv);
  const to = addressFromPrivateKey(hex.decode("11".repeat(32)));
  const bodies: string[] = [];
  for (let i = 0; i < n; i++) {
    const rawBytes = encodeTransactionRaw({
      ...ref,
      expiration: ts + 600_000n,
      timestamp: ts + BigInt(salt),
      feeLimit: 0n,
      data: new Uint8Array(0),
      contract: { type: "TransferContract", owner, to, amount: BigInt(i + 1) },
      permissionId: 0,
    });
    const sig = signTxId(txIdOf(rawBytes), priv);
    bodies.push(JSON.stringify(transactionToJson(rawBytes, [sig])));
  }
  return bodies;
}

async function fire(
  url: string,
  bodies: string[],
): Promise<{ tps: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++] as string;
      const t0 = performance.now();
      const answer = JSON.parse(await post(`${url}/wallet/broadcasttransaction`, body));
      latencies.push(performance.now() - t0);
      if (answer.result !== true) failed++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  if (failed > 0) throw new Error(`${failed} broadcasts were refused`);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { tps: bodies.length / seconds, p50: pct(0.5), p99: pct(0.99) };
}

const priv = secp256k1.utils.randomSecretKey();
const { child, url } = await startChild(hex.encode(priv));
try {
  // Activate the recipient first so every benchmarked transfer takes the same path.
  const to = hex.encode(addressFromPrivateKey(hex.decode("11".repeat(32))));
  await post(`${url}/admin/fund`, JSON.stringify({ address: to, trx: 1_000_000, mine: 1 }));
  // One unreported warm-up run lets both processes' JIT settle.
  await fire(url, await signTransfers(url, priv, Math.min(N, 2000), 0));
  const results: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const bodies = await signTransfers(url, priv, N, run);
    const cpuBefore = cpuSeconds(child.pid);
    const r = await fire(url, bodies);
    const cpuAfter = cpuSeconds(child.pid);
    results.push(r.tps);
    // Server CPU per broadcast is independent of what else shares the machine.
    const cpu =
      cpuBefore === undefined || cpuAfter === undefined
        ? ""
        : `, devnet CPU ${(((cpuAfter - cpuBefore) / N) * 1e6).toFixed(0)} µs/broadcast`;
    console.log(
      `run ${run}: ${N} broadcasts, concurrency ${CONCURRENCY}: ${r.tps.toFixed(0)} tx/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms${cpu}`,
    );
  }
  results.sort((a, b) => a - b);
  console.log(`median over ${RUNS} runs: ${(results[Math.floor(RUNS / 2)] ?? 0).toFixed(0)} tx/s`);
} finally {
  agent.destroy();
  child.kill("SIGTERM");
}
