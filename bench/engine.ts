/**
 * npm run bench:engine: the engine against the chain's pace. Real processes: one core and one
 * signer (supervised, run from source under tsx, as chaos/procs.ts starts them), a fresh
 * database and the devnet in this process (so its HTTP requests are counted by path and its
 * blocks timed as they are produced). Submits one CreatePayoutBatch of N payouts, half USDT
 * and half TRX to fresh recipients, and reports:
 *
 * - time to first and to all CONFIRMED, from just before the call (and from its answer);
 * - node requests per payout (every request the devnet served in the window, by path);
 * - core CPU ms per payout (utime + stime of the core process from /proc, in the window);
 * - the devnet's block time and solidification lag;
 * - for the slow mode: how many blocks after the last included payout's block solidified the
 *   last confirmation came.
 *
 *   npm run bench:engine [-- --mode fast|tron|both --n 1000 --tron-n 50 --label before --code built|tsx]
 *
 * fast: 100 ms blocks, 2-block lag, N = 1,000. tron: 3 s blocks, 19-block lag (java-tron's
 * timing), N = 50. Writes bench/results/engine-<label>-<date>.json and .md.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "slonik";
import { z } from "zod";
import type { Supervised } from "../chaos/procs.js";
import { fundedWallet, startChaosStack } from "../chaos/stack.js";
import { Asset } from "../src/gen/tronpay/v1/common_pb.js";
import { PayoutRoute, PayoutService } from "../src/gen/tronpay/v1/payout_pb.js";
import { toBase58 } from "../src/shared/address.js";
import { TRX } from "../test/devnet/helpers.js";
import { prepareCode } from "./code.js";

const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "both" },
    n: { type: "string", default: "1000" },
    "tron-n": { type: "string", default: "50" },
    label: { type: "string", default: "run" },
    code: { type: "string", default: "built" },
  },
});
const log = (m: string) => console.error(`[bench:engine] ${m}`);
const code = prepareCode(values.code);
log(`code: ${code.note}`);
const TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

interface ModeResult {
  mode: string;
  blockTimeMs: number;
  solidLag: number;
  items: number;
  load: { before: number[]; after: number[] };
  acceptSeconds: number;
  firstConfirmedSeconds: number;
  allConfirmedSeconds: number;
  allConfirmedAfterAcceptSeconds: number;
  confirmed: number;
  failed: number;
  nodeRequests: number;
  nodeRequestsPerPayout: number;
  nodeRequestsByPath: Record<string, number>;
  coreCpuMs: number;
  coreCpuMsPerPayout: number;
  coreCpuMsAccept: number;
  attemptsPerPayout: number;
  /** tron mode: blocks between the last included block's solidification and the last confirmation. */
  lastConfirmAfterSolidBlocks?: number;
}

/** utime + stime of a process in ms, from /proc/PID/stat. */
function cpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
}

function randomAddress(): string {
  const a = crypto.getRandomValues(new Uint8Array(21));
  a[0] = 0x41;
  return toBase58(a);
}

const Times = z.object({
  confirmed: z.number(),
  failed: z.number(),
  first_ms: z.number().nullable(),
  last_ms: z.number().nullable(),
  attempts: z.number(),
  max_block: z.bigint().nullable(),
});

async function runMode(
  mode: string,
  blockTimeMs: number,
  solidLag: number,
  items: number,
): Promise<ModeResult> {
  const stack = await startChaosStack({
    cores: 1,
    withEdge: false,
    built: code.built,
    devnet: { blockTimeMs, solidLag },
    coreEnv: {
      TRONPAY_CORE_POLL_MS: "50",
      TRONPAY_CORE_WORKERS: "32",
      TRONPAY_V0_MAX_PER_DAY: "100000000",
    },
  });
  try {
    const core = stack.cores[0] as Supervised;
    const devnet = stack.net.devnet;
    // When each solidified height was first reached (wall clock of this process).
    const solidAt = new Map<number, number>();
    const unsubscribe = devnet.node.chain.onBlock(() => {
      const h = devnet.node.chain.solidHeight;
      if (!solidAt.has(h)) solidAt.set(h, Date.now());
    });
    const wallet = await fundedWallet(stack, `engine-${mode}`, {
      trxSun: 10_000_000n * TRX,
      usdt: 10n ** 15n,
    });
    const payouts = stack.client(PayoutService, stack.coreUrls[0] ?? "");
    const list = Array.from({ length: items }, (_, i) => ({
      itemReference: `${mode}-${i}`,
      walletId: wallet.id,
      recipient: { case: "recipientAddress" as const, value: randomAddress() },
      amount: { asset: i % 2 ? Asset.TRX : Asset.USDT, value: "0.000001" },
      route: PayoutRoute.V0,
    }));
    // Let the wallet's funding solidify and the follower settle before the window opens.
    await new Promise((r) => setTimeout(r, Math.max(1_000, blockTimeMs * 2)));
    const loadBefore = loadavg();
    const requestsBefore = devnet.admin.requestCounts();
    const cpuBefore = cpuMs(core.pid());
    const t0 = Date.now();
    let batchId = "";
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await payouts.createPayoutBatch(
          { idempotencyKey: `engine-${mode}`, items: list },
          { timeoutMs: 120_000 },
        );
        batchId = r.batch?.id ?? "";
        break;
      } catch (err) {
        const code = ConnectError.from(err).code;
        if (attempt >= 5 || (code !== Code.DeadlineExceeded && code !== Code.Unavailable))
          throw err;
      }
    }
    const accepted = Date.now();
    const cpuAccept = cpuMs(core.pid());
    const deadline = Date.now() + Math.max(600_000, items * 1_000);
    let times: z.infer<typeof Times>;
    for (;;) {
      times = await stack.db.pool.one(sql.type(Times)`
        SELECT count(*) FILTER (WHERE o.state = 'CONFIRMED')::int AS confirmed,
               count(*) FILTER (WHERE o.state IN ('FAILED', 'CANCELLED'))::int AS failed,
               (extract(epoch FROM min(o.confirmed_at)) * 1000)::float8 AS first_ms,
               (extract(epoch FROM max(o.confirmed_at)) * 1000)::float8 AS last_ms,
               (SELECT count(*)::int FROM attempts a JOIN payouts q ON q.id = a.operation_id
                 WHERE q.batch_id = ${batchId}) AS attempts,
               (SELECT max(a.block_number) FROM attempts a JOIN payouts q ON q.id = a.operation_id
                 WHERE q.batch_id = ${batchId} AND a.state = 'INCLUDED') AS max_block
        FROM payouts p JOIN operations o ON o.id = p.id WHERE p.batch_id = ${batchId}`);
      if (times.confirmed + times.failed >= items) break;
      if (Date.now() > deadline) throw new Error(`not done: ${JSON.stringify(times)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const cpuAfter = cpuMs(core.pid());
    const requestsAfter = devnet.admin.requestCounts();
    unsubscribe();
    const byPath: Record<string, number> = {};
    for (const [path, n] of Object.entries(requestsAfter)) {
      const d = n - (requestsBefore[path] ?? 0);
      if (d > 0) byPath[path] = d;
    }
    const nodeRequests = Object.values(byPath).reduce((a, b) => a + b, 0);
    const last = times.last_ms ?? Number.NaN;
    const result: ModeResult = {
      mode,
      blockTimeMs,
      solidLag,
      items,
      load: { before: loadBefore, after: loadavg() },
      acceptSeconds: (accepted - t0) / 1000,
      firstConfirmedSeconds: ((times.first_ms ?? Number.NaN) - t0) / 1000,
      allConfirmedSeconds: (last - t0) / 1000,
      allConfirmedAfterAcceptSeconds: (last - accepted) / 1000,
      confirmed: times.confirmed,
      failed: times.failed,
      nodeRequests,
      nodeRequestsPerPayout: nodeRequests / items,
      nodeRequestsByPath: byPath,
      coreCpuMs: cpuAfter - cpuBefore,
      coreCpuMsPerPayout: (cpuAfter - cpuBefore) / items,
      coreCpuMsAccept: cpuAccept - cpuBefore,
      attemptsPerPayout: times.attempts / items,
    };
    if (times.max_block !== null) {
      const solid = solidAt.get(Number(times.max_block));
      if (solid !== undefined) result.lastConfirmAfterSolidBlocks = (last - solid) / blockTimeMs;
    }
    return result;
  } finally {
    await stack.stop();
  }
}

function render(label: string, results: ModeResult[]): string {
  const out = [`# Engine bench (${label}), ${new Date().toISOString()}`, ""];
  out.push(
    `Real core + signer processes (${code.note}), devnet in the bench process; one run per mode.`,
    "",
    "| mode | blocks | N | accept s | first CONFIRMED s | all CONFIRMED s | node req/payout | core CPU ms/payout | attempts/payout | last confirm after solid (blocks) | load before → after |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const r of results) {
    out.push(
      `| ${r.mode} | ${r.blockTimeMs} ms, lag ${r.solidLag} | ${r.items} | ${r.acceptSeconds.toFixed(2)} | ${r.firstConfirmedSeconds.toFixed(2)} | ${r.allConfirmedSeconds.toFixed(2)} | ${r.nodeRequestsPerPayout.toFixed(2)} | ${r.coreCpuMsPerPayout.toFixed(2)} | ${r.attemptsPerPayout.toFixed(2)} | ${r.lastConfirmAfterSolidBlocks?.toFixed(2) ?? "–"} | ${r.load.before.map((l) => l.toFixed(2)).join(" ")} → ${r.load.after.map((l) => l.toFixed(2)).join(" ")} |`,
    );
  }
  for (const r of results) {
    out.push("", `## ${r.mode}: node requests by path`, "");
    out.push(
      `${r.confirmed} CONFIRMED, ${r.failed} FAILED/CANCELLED; core CPU ${r.coreCpuMs.toFixed(0)} ms in the window (${r.coreCpuMsAccept.toFixed(0)} ms while the batch was accepted); all CONFIRMED ${r.allConfirmedAfterAcceptSeconds.toFixed(2)} s after the batch call answered.`,
      "",
      "| path | requests | per payout |",
      "|---|---|---|",
    );
    for (const [path, n] of Object.entries(r.nodeRequestsByPath).sort((a, b) => b[1] - a[1]))
      out.push(`| ${path} | ${n} | ${(n / r.items).toFixed(2)} |`);
  }
  return `${out.join("\n")}\n`;
}

const results: ModeResult[] = [];
const mode = values.mode;
if (mode === "fast" || mode === "both") {
  log(`fast: ${values.n} payouts, 100 ms blocks, lag 2`);
  results.push(await runMode("fast", 100, 2, Number(values.n)));
  log(JSON.stringify(results.at(-1)));
}
if (mode === "tron" || mode === "both") {
  log(`tron: ${values["tron-n"]} payouts, 3 s blocks, lag 19`);
  results.push(await runMode("tron", 3000, 19, Number(values["tron-n"])));
  log(JSON.stringify(results.at(-1)));
}
const day = new Date().toISOString().slice(0, 19).replace(/:/g, "-");
const base = new URL(`./results/engine-${values.label}-${day}`, import.meta.url).pathname;
writeFileSync(`${base}.json`, `${JSON.stringify({ label: values.label, results }, null, 2)}\n`);
const md = render(values.label, results);
writeFileSync(`${base}.md`, md);
console.log(md);
process.exit(0);
