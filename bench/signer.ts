/**
 * Signer throughput: signatures per second including strict decoding, policy and the
 * group-fsynced journal, measured in one invocation so the figures compare:
 *  - in process, native libsecp256k1 (what the signer uses when the binding loads);
 *  - in process, pure-JS noble (the baseline, in a child with TRONPAY_SECP256K1=noble);
 *  - over the Unix socket against a real signer process (Connect over HTTP/2): SignTransaction
 *    with 64 calls in flight (JSON, and core's binary transport), and SignTransactions batches
 *    of 16 (4 calls in flight) and 64 (1 and 4 calls in flight): 64 transactions in flight
 *    except the last row. With the signer's own CPU per signature, which the machine's load
 *    changes less than it changes wall-clock rates.
 * Each figure is the median of several runs, with min–max; the rows of one invocation share
 * the machine's load, so compare within a run. Also: seconds to sign and journal a 1,000-payout
 * batch over the socket. Writes bench/results/signer-<timestamp>.md with `uptime` at start and
 * end.
 *
 *   npx tsx bench/signer.ts [--n 3000] [--runs 5]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  IntentKind,
  SignerService,
  SignIntentSchema,
  type SignTransactionRequest,
  SignTransactionRequestSchema,
} from "../src/gen/tronpay/signer/v1/signer_pb.js";
import { Asset } from "../src/gen/tronpay/v1/common_pb.js";
import { parseAddress, toBase58 } from "../src/shared/address.js";
import { parseFlags } from "../src/shared/config.js";
import { unixSocketClient } from "../src/shared/connect.js";
import { signTransaction } from "../src/signer/flows.js";
import { Keystore } from "../src/signer/keystore.js";
import { intent, rawBytes, testPolicy, testSigner } from "../src/signer/testing.js";
import { signingBackend } from "../src/tron/signature.js";
import { newAccount } from "../src/tron/testing.js";
import { startProcess } from "../test/helpers/process.js";

const flags = parseFlags(process.argv.slice(2));
const N = Number(flags.n ?? 3000);
const RUNS = Number(flags.runs ?? 5);

const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim();

function summary(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: sorted[Math.floor(sorted.length / 2)] as number,
    min: sorted[0] as number,
    max: sorted.at(-1) as number,
  };
}

/** One in-process run: N signatures through the full flow, all in flight at once. */
async function inProcessRun(run: number): Promise<number> {
  const now = { value: Date.now() };
  const { deps, owner } = await testSigner(
    now,
    testPolicy({ maxPer24h: { TRX: 10n ** 18n, USDT: 0n } }),
  );
  const to = toBase58(newAccount().address);
  const requests = Array.from({ length: N }, (_, i) => ({
    intent: intent({ owner, counterparty: to, operationId: `r${run}-${i}` }),
    raw: rawBytes(
      {
        type: "TransferContract",
        owner: parseAddress(owner),
        to: parseAddress(to),
        amount: 1_000_000n,
      },
      now.value + i,
    ),
  }));
  const t0 = performance.now();
  await Promise.all(requests.map((r) => signTransaction(deps, r.intent, r.raw)));
  return N / ((performance.now() - t0) / 1000);
}

async function inProcess(): Promise<number[]> {
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) rates.push(await inProcessRun(run));
  return rates;
}

/**
 * One way of sending over the socket: per-call batch size, calls in flight, and the client:
 * core's own transport (binary, no compression) or the same in JSON.
 */
interface SocketMode {
  name: string;
  batch: number;
  inFlight: number;
  client: "core" | "json";
}

const MODES: SocketMode[] = [
  { name: "SignTransaction, JSON, 64 in flight", batch: 1, inFlight: 64, client: "json" },
  { name: "SignTransaction, 64 in flight", batch: 1, inFlight: 64, client: "core" },
  { name: "SignTransactions ×16, 4 calls in flight", batch: 16, inFlight: 4, client: "core" },
  { name: "SignTransactions ×64, 1 call in flight", batch: 64, inFlight: 1, client: "core" },
  { name: "SignTransactions ×64, 4 calls in flight", batch: 64, inFlight: 4, client: "core" },
];

/** A JSON client on the socket (the comparison for binary). */
function jsonClient(socketPath: string): Client<typeof SignerService> {
  return createClient(
    SignerService,
    createConnectTransport({
      httpVersion: "2",
      baseUrl: "http://localhost",
      useBinaryFormat: false,
      acceptCompression: [],
      nodeOptions: { createConnection: () => connect(socketPath) },
    }),
  );
}

/** CPU seconds (user + system) the process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** Over the socket: a real signer process, each mode RUNS times, interleaved. */
async function overSocket(): Promise<{
  rates: Map<string, number[]>;
  cpu: Map<string, number[]>;
  clientCpu: Map<string, number[]>;
  batchSeconds: number[];
}> {
  const dir = mkdtempSync(join(tmpdir(), "tp-bench-signer-"));
  mkdirSync(join(dir, "s"), { mode: 0o700 });
  const passphrase = `bench-${process.pid}-${Date.now()}`;
  await Keystore.create(join(dir, "s", "keystore.age"), { passphrase, scryptLogN: 4 });
  const signer = startProcess("src/signer/main.ts", {
    TRONPAY_SIGNER_DATA_DIR: join(dir, "s"),
    TRONPAY_SIGNER_PASSPHRASE: passphrase,
    TRONPAY_SIGNER_SCRYPT_LOG_N: "4",
    TRONPAY_USDT_CONTRACT: toBase58(newAccount().address),
    TRONPAY_SIGNER_MAX_PER_24H_TRX: "1000000000",
  });
  await signer.waitForLog("signer ready");
  const socketPath = join(dir, "s", "signer.sock");
  const clients = {
    core: unixSocketClient(SignerService, socketPath),
    json: jsonClient(socketPath),
  };
  const pid = signer.child.pid as number;
  const owner = (await clients.core.deriveKey({ account: 0, label: "bench" })).address;
  const send = async (count: number, prefix: string, mode: SocketMode) => {
    const client = clients[mode.client];
    // A fresh recipient per run keeps every transaction distinct across runs.
    const to = toBase58(newAccount().address);
    const base = Date.now();
    const request = (i: number): SignTransactionRequest =>
      create(SignTransactionRequestSchema, {
        intent: create(SignIntentSchema, {
          operationId: `${prefix}-${i}`,
          kind: IntentKind.TRX_TRANSFER,
          ownerAddress: owner,
          counterpartyAddress: to,
          asset: Asset.TRX,
          amount: "1000",
        }),
        rawData: rawBytes(
          {
            type: "TransferContract",
            owner: parseAddress(owner),
            to: parseAddress(to),
            amount: 1_000n,
          },
          base + i,
        ),
      });
    // Built before the clock starts, as the in-process rows do: the rows time signing, not
    // building transactions (core's work, measured by the engine benches).
    const requests = Array.from({ length: count }, (_, i) => request(i));
    let next = 0;
    let signed = 0;
    const worker = async () => {
      while (next < count) {
        const first = next;
        next = Math.min(count, next + mode.batch);
        const items = requests.slice(first, next);
        if (mode.batch === 1) {
          await client.signTransaction(items[0] as SignTransactionRequest);
          signed++;
          continue;
        }
        const { results } = await client.signTransactions({ items });
        for (const r of results) {
          if (r.result.case !== "signed") throw new Error(`refused: ${r.result.value?.reason}`);
          signed++;
        }
      }
    };
    const cpu0 = cpuSeconds(pid);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: mode.inFlight }, worker));
    const seconds = (performance.now() - t0) / 1000;
    const clientCpu = process.cpuUsage(client0);
    if (signed !== count) throw new Error(`signed ${signed} of ${count}`);
    return {
      seconds,
      cpuUsPerSig: ((cpuSeconds(pid) - cpu0) * 1e6) / count,
      clientUsPerSig: (clientCpu.user + clientCpu.system) / count,
    };
  };
  const rates = new Map<string, number[]>(MODES.map((m) => [m.name, []]));
  const cpu = new Map<string, number[]>(MODES.map((m) => [m.name, []]));
  const clientCpu = new Map<string, number[]>(MODES.map((m) => [m.name, []]));
  const batchSeconds: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    for (const [k, mode] of MODES.entries()) {
      const r = await send(N, `s${run}-${k}`, mode);
      rates.get(mode.name)?.push(N / r.seconds);
      cpu.get(mode.name)?.push(r.cpuUsPerSig);
      clientCpu.get(mode.name)?.push(r.clientUsPerSig);
    }
    batchSeconds.push((await send(1000, `batch${run}`, BATCH_MODE)).seconds);
  }
  await signer.stop();
  return { rates, cpu, clientCpu, batchSeconds };
}

const BATCH_MODE = MODES[3] as SocketMode;

if (flags.child === "in-process") {
  process.stdout.write(JSON.stringify(await inProcess()));
  process.exit(0);
}

const nativeRates = await inProcess();
const nobleRates = JSON.parse(
  execFileSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "bench/signer.ts",
      "--child",
      "in-process",
      "--n",
      String(N),
      "--runs",
      String(RUNS),
    ],
    {
      env: { ...process.env, TRONPAY_SECP256K1: "noble" },
      encoding: "utf8",
    },
  ),
) as number[];
const loadStart = uptime();
const socket = await overSocket();
const loadEnd = uptime();
const rows: [string, number[], number[] | undefined, number[] | undefined][] = [
  [`in process, ${signingBackend}`, nativeRates, undefined, undefined],
  ["in process, noble (baseline)", nobleRates, undefined, undefined],
  ...[...socket.rates].map(
    ([name, values]): [string, number[], number[] | undefined, number[] | undefined] => [
      `Unix socket, ${signingBackend}: ${name}`,
      values,
      socket.cpu.get(name),
      socket.clientCpu.get(name),
    ],
  ),
];
const base = summary(nobleRates).median;
const batch = summary(socket.batchSeconds);
const lines = [
  `# Signer throughput, ${new Date().toISOString()}`,
  "",
  `${N} signatures per run, ${RUNS} runs (decode + policy + journal fsync); socket modes interleaved per run.`,
  "Signer CPU: the signer process's user + system CPU per signature (from /proc), median;",
  "1,000,000 / that is what one core of the signer could sign if the client cost nothing.",
  "Client CPU: the bench process's CPU per signature (the caller's side of the transport, as core's;",
  "it also reads the signer's log, one line per signature).",
  "",
  `Load at start of the socket runs: \`${loadStart}\``,
  `Load at end: \`${loadEnd}\``,
  "",
  "| path | sig/s median | min–max | × noble | signer CPU µs/sig | client CPU µs/sig |",
  "| --- | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map(([name, values, cpu, client]) => {
    const s = summary(values);
    const us = (v: number[] | undefined) => (v ? summary(v).median.toFixed(0) : "");
    return `| ${name} | ${s.median.toFixed(0)} | ${s.min.toFixed(0)}–${s.max.toFixed(0)} | ${(s.median / base).toFixed(2)} | ${us(cpu)} | ${us(client)} |`;
  }),
  "",
  `1,000-payout batch signed and journaled over the socket (${BATCH_MODE.name}): median ${batch.median.toFixed(2)} s (${batch.min.toFixed(2)}–${batch.max.toFixed(2)} s)`,
];
console.log(`\n${lines.join("\n")}`);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/signer-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}.md`;
writeFileSync(file, `${lines.join("\n")}\n`);
console.log(`\nwrote ${file}`);
