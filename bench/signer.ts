/**
 * Signer throughput: signatures per second including strict decoding, policy and the
 * group-fsynced journal, measured three ways in one invocation so the figures compare:
 *  - in process, native libsecp256k1 (what the signer uses when the binding loads);
 *  - in process, pure-JS noble (the baseline, in a child with TRONPAY_SECP256K1=noble);
 *  - over the Unix socket against a real signer process (Connect over HTTP/2), 64 in flight.
 * Each figure is the median of several runs, with min–max. Also: seconds to sign and journal
 * a 1,000-payout batch over the socket.
 *
 *   npx tsx bench/signer.ts [--n 3000] [--runs 5]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  IntentKind,
  SignerService,
  SignIntentSchema,
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

/** Over the socket: a real signer process, 64 requests in flight. */
async function overSocket(): Promise<{ rates: number[]; batchSeconds: number }> {
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
  const client = unixSocketClient(SignerService, join(dir, "s", "signer.sock"));
  const owner = (await client.deriveKey({ account: 0, label: "bench" })).address;
  const send = async (count: number, prefix: string, inFlight: number) => {
    // A fresh recipient per run keeps every transaction distinct across runs.
    const to = toBase58(newAccount().address);
    const base = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const raw = rawBytes(
          {
            type: "TransferContract",
            owner: parseAddress(owner),
            to: parseAddress(to),
            amount: 1_000n,
          },
          base + i,
        );
        const req = create(SignIntentSchema, {
          operationId: `${prefix}-${i}`,
          kind: IntentKind.TRX_TRANSFER,
          ownerAddress: owner,
          counterpartyAddress: to,
          asset: Asset.TRX,
          amount: "1000",
        });
        await client.signTransaction({ intent: req, rawData: raw });
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: inFlight }, worker));
    return (performance.now() - t0) / 1000;
  };
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) rates.push(N / (await send(N, `s${run}`, 64)));
  const batchSeconds = await send(1000, "batch", 16);
  await signer.stop();
  return { rates, batchSeconds };
}

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
const socket = await overSocket();
const rows: [string, number[]][] = [
  [`in process, ${signingBackend}`, nativeRates],
  ["in process, noble (baseline)", nobleRates],
  [`Unix socket, ${signingBackend}, 64 in flight`, socket.rates],
];
const base = summary(nobleRates).median;
console.log(`\nSigner: ${N} signatures per run, ${RUNS} runs (decode + policy + journal fsync)\n`);
console.log("| path | sig/s median | min–max | × noble |");
console.log("| --- | ---: | ---: | ---: |");
for (const [name, values] of rows) {
  const s = summary(values);
  console.log(
    `| ${name} | ${s.median.toFixed(0)} | ${s.min.toFixed(0)}–${s.max.toFixed(0)} | ${(s.median / base).toFixed(2)} |`,
  );
}
console.log(
  `\n1,000-payout batch signed and journaled over the socket (16 in flight): ${socket.batchSeconds.toFixed(2)} s`,
);
