// npm run bench:footprint: what `npm start` costs. Cold start (fresh data directory) to the
// printed curl, split into the launcher's phases; a warm start on the same data; idle RSS/PSS
// of each process; peak RSS/PSS under a short CreatePayout load (Connect to core and REST via
// the edge at once), in the last cold run. It deletes the embedded database's initdb template
// first (node_modules/.cache/tronpay), so run 1 is a first start on this machine and later runs
// show the usual fresh start. Writes bench/results/footprint-<timestamp>.md.
//
//   npm run bench:footprint -- [--runs 3] [--idle-sec 15] [--load-sec 20] [--inflight 16]
//                              [--port-base 24000]
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connectClient } from "../src/cli/client.js";
import { createRequest } from "../src/cli/payouts.js";
import { PayoutService } from "../src/gen/tronpay/v1/payout_pb.js";
import { NODE_FLAGS } from "../src/launcher/node-flags.js";
import { pgliteTemplateFile } from "../src/launcher/postgres.js";
import { RECIPIENT } from "./clients.js";
import { pssMiB, rssMiB } from "./rss.js";

const ROOT = new URL("../", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    "idle-sec": { type: "string", default: "15" },
    "load-sec": { type: "string", default: "20" },
    inflight: { type: "string", default: "16" },
    "port-base": { type: "string", default: "24000" },
  },
});
const portBase = Number(values["port-base"]);
const loadAt = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/** A started `npm start`: its output so far, when each marker appeared, and its process. */
interface Launch {
  child: ChildProcess;
  out: () => string;
  /** ms from spawn to "tronpay: starting" (npm, build, the launcher's own imports). */
  toLauncherMs: number;
  /** ms from spawn to the printed curl. */
  toCurlMs: number;
}

function launch(dataDir: string): Promise<Launch> {
  const started = performance.now();
  const child = spawn("npm", ["start", "--silent"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      TRONPAY_DATA_DIR: dataDir,
      TRONPAY_DEVNET_BLOCK_MS: "1000",
      TRONPAY_DEVNET_SOLID_LAG: "2",
      TRONPAY_DEVNET_PORT: String(portBase + 90),
      TRONPAY_CORE_PORT: String(portBase + 51),
      TRONPAY_CORE_ADMIN_PORT: String(portBase + 64),
      TRONPAY_EDGE_PORT: String(portBase + 80),
      TRONPAY_PG_PORT: String(portBase + 32),
      // The load below is the point: the demo's write rate limit would refuse it.
      TRONPAY_RATE_WRITE_PER_MIN: "10000000",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  let toLauncherMs = 0;
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      text += d.toString();
      if (!toLauncherMs && text.includes("tronpay: starting")) {
        toLauncherMs = performance.now() - started;
      }
      if (/curl -sS[^\n]*\n[^\n]*\n[^\n]*\n/.test(text)) {
        child.stdout?.off("data", onData);
        child.stdout?.on("data", (more: Buffer) => {
          text += more.toString();
        });
        resolve({ child, out: () => text, toLauncherMs, toCurlMs: performance.now() - started });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (d: Buffer) => {
      text += d.toString();
    });
    child.once("exit", (code) => reject(new Error(`npm start exited (${code}):\n${text}`)));
  });
}

/** Ctrl-C to the launcher itself (npm does not pass it on), which stops everything in order. */
function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    const launcher = processes(child.pid ?? 0).get("launcher");
    process.kill(launcher ?? child.pid ?? 0, "SIGINT");
  });
}

/** The pids under `root`, by the part each runs (launcher, core, signer, edge). */
function processes(root: number): Map<string, number> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found = new Map<string, number>();
  const walk = (pid: number) => {
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      return;
    }
    for (const part of ["launcher", "core", "signer", "edge"]) {
      if (new RegExp(`/${part}/main\\.[jt]s`).test(cmd)) found.set(part, pid);
    }
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return found;
}

type Memory = Record<string, { rss: number; pss: number }>;

function readMemory(procs: Map<string, number>): Memory {
  return Object.fromEntries(
    [...procs].map(([name, pid]) => [name, { rss: rssMiB(pid), pss: pssMiB(pid) }]),
  );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

/** The launcher's phases of its latest start, from its log. */
function phases(dataDir: string): Record<string, { ms: number; endAtMs: number }> {
  const lines = readFileSync(join(dataDir, "logs", "launcher.log"), "utf8")
    .split("\n")
    .filter((l) => l.includes('"msg":"launcher ready"'));
  const last = lines.at(-1);
  return last ? (JSON.parse(last) as { phases: Record<string, never> }).phases : {};
}

function printed(text: string) {
  const grab = (re: RegExp) => re.exec(text)?.[1] ?? "";
  return {
    coreUrl: grab(/gRPC \/ Connect\s+(\S+)/),
    restUrl: grab(/REST\s+(http\S+)/),
    key: grab(/admin API key\s+(\S+)/),
    walletId: grab(/payout wallet\s+(wal_\S+)/),
  };
}

/** CreatePayout for `sec` seconds, half the callers via Connect to core, half REST via the edge. */
async function load(facts: ReturnType<typeof printed>, sec: number, inflight: number) {
  const client = connectClient(PayoutService, { url: facts.coreUrl, key: facts.key });
  const until = performance.now() + sec * 1000;
  let ok = 0;
  let failed = 0;
  let n = 0;
  const worker = async (rest: boolean) => {
    while (performance.now() < until) {
      const key = `fp-${process.pid}-${n++}`;
      try {
        if (rest) {
          const res = await fetch(`${facts.restUrl}/v1/payouts`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${facts.key}`,
              "content-type": "application/json",
              "idempotency-key": key,
            },
            body: JSON.stringify({
              walletId: facts.walletId,
              recipientAddress: RECIPIENT,
              amount: { asset: "ASSET_USDT", value: "0.000001" },
              route: "PAYOUT_ROUTE_V0",
            }),
          });
          await res.arrayBuffer();
          if (!res.ok) throw new Error(String(res.status));
        } else {
          await client.createPayout(
            createRequest({
              keyIdem: key,
              wallet: facts.walletId,
              to: RECIPIENT,
              amount: "0.000001",
              asset: "USDT",
              route: "V0",
            }),
          );
        }
        ok++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: inflight }, (_, i) => worker(i % 2 === 1)));
  return { ok, failed, perSec: ok / sec };
}

const total = (m: Memory, key: "rss" | "pss", names = ["core", "signer", "edge"]) =>
  names.reduce((s, n) => s + (m[n]?.[key] ?? 0), 0);

async function main() {
  const runs = Number(values.runs);
  const loadBefore = loadAt();
  const cold: {
    toLauncherMs: number;
    toCurlMs: number;
    template: boolean;
    phases: ReturnType<typeof phases>;
  }[] = [];
  // The first run is the first on this machine: no initdb template yet (see postgres.ts).
  rmSync(pgliteTemplateFile(), { force: true });
  let idle: Memory = {};
  let peak: Memory = {};
  let loadResult = { ok: 0, failed: 0, perSec: 0 };
  let warm = { toLauncherMs: 0, toCurlMs: 0, phases: {} as ReturnType<typeof phases> };
  for (let run = 0; run < runs; run++) {
    const dataDir = mkdtempSync(join(tmpdir(), "tp-footprint-"));
    try {
      const template = existsSync(pgliteTemplateFile());
      const first = await launch(dataDir);
      cold.push({ ...first, template, phases: phases(dataDir) });
      process.stdout.write(`cold start ${run + 1}: ${(first.toCurlMs / 1000).toFixed(1)} s\n`);
      if (run === runs - 1) {
        const procs = processes(first.child.pid ?? 0);
        await new Promise((r) => setTimeout(r, Number(values["idle-sec"]) * 1000));
        const samples: Memory[] = [];
        for (let i = 0; i < 5; i++) {
          samples.push(readMemory(procs));
          await new Promise((r) => setTimeout(r, 1000));
        }
        idle = Object.fromEntries(
          [...procs.keys()].map((n) => [
            n,
            {
              rss: median(samples.map((s) => s[n]?.rss ?? 0)),
              pss: median(samples.map((s) => s[n]?.pss ?? 0)),
            },
          ]),
        );
        process.stdout.write(`idle: ${JSON.stringify(idle)}\n`);
        const sampler = setInterval(() => {
          for (const [n, m] of Object.entries(readMemory(procs))) {
            const p = peak[n] ?? { rss: 0, pss: 0 };
            peak[n] = { rss: Math.max(p.rss, m.rss), pss: Math.max(p.pss, m.pss) };
          }
        }, 200);
        loadResult = await load(
          printed(first.out()),
          Number(values["load-sec"]),
          Number(values.inflight),
        );
        process.stdout.write(`load: ${JSON.stringify(loadResult)}\n`);
        // The engine keeps signing and broadcasting what was accepted: sample a while longer.
        await new Promise((r) => setTimeout(r, 5000));
        clearInterval(sampler);
        peak = { ...peak };
      }
      await stop(first.child);
      if (run === runs - 1) {
        const second = await launch(dataDir);
        warm = { ...second, phases: phases(dataDir) };
        await stop(second.child);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const loadAfter = loadAt();
  const rev = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT })
    .toString()
    .trim();
  const withTemplate = cold.filter((c) => c.template);
  const phaseNames = [...new Set(cold.flatMap((c) => Object.keys(c.phases)))];
  const f = (ms: number) => (ms / 1000).toFixed(1);
  const mem = (m: Memory) =>
    ["launcher", "core", "signer", "edge"].map(
      (n) => `| ${n} | ${(m[n]?.rss ?? 0).toFixed(0)} | ${(m[n]?.pss ?? 0).toFixed(0)} |`,
    );
  const lines = [
    `# Footprint of npm start (${new Date().toISOString()})`,
    "",
    `Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}. Commit ${rev}.`,
    `start command: \`${JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts.start}\``,
    `V8 flags: ${Object.entries(NODE_FLAGS)
      .map(([n, f]) => `${n} \`${f.join(" ") || "none"}\``)
      .join(", ")}.`,
    "",
    "## Cold start (fresh data directory), to the printed curl",
    "",
    "Run 1 is the first on this machine (no initdb template); later runs unpack the template.",
    "",
    `| run | template | to launcher | to curl | ${phaseNames.map((p) => `${p} (ends at)`).join(" | ")} |`,
    `| --- | --- | --- | --- | ${phaseNames.map(() => "---").join(" | ")} |`,
    ...cold.map(
      (c, i) =>
        `| ${i + 1} | ${c.template ? "yes" : "no"} | ${f(c.toLauncherMs)} s | ${f(c.toCurlMs)} s | ${phaseNames
          .map((p) => `${f(c.phases[p]?.ms ?? 0)} (${f(c.phases[p]?.endAtMs ?? 0)})`)
          .join(" | ")} |`,
    ),
    `| median with template | | ${f(median(withTemplate.map((c) => c.toLauncherMs)))} s | ${f(median(withTemplate.map((c) => c.toCurlMs)))} s | |`,
    "",
    `Warm start (same data, second run): ${f(warm.toCurlMs)} s to the curl (${f(warm.toLauncherMs)} s to the launcher); phases ${JSON.stringify(warm.phases)}`,
    "",
    `## Memory (MiB) in the last cold run, idle (median of 5 readings after ${values["idle-sec"]} s)`,
    "",
    "| process | RSS | PSS |",
    "| --- | --- | --- |",
    ...mem(idle),
    `| core+signer+edge | ${total(idle, "rss").toFixed(0)} | ${total(idle, "pss").toFixed(0)} |`,
    "",
    `## Memory (MiB), peak under ${values["load-sec"]} s of CreatePayout at ${values.inflight} in flight (+5 s)`,
    "",
    `Accepted ${loadResult.ok} (${loadResult.perSec.toFixed(0)}/s), failed ${loadResult.failed}.`,
    "",
    "| process | RSS | PSS |",
    "| --- | --- | --- |",
    ...mem(peak),
    `| core+signer+edge | ${total(peak, "rss").toFixed(0)} | ${total(peak, "pss").toFixed(0)} |`,
    "",
  ];
  const text = lines.join("\n");
  process.stdout.write(text);
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "-");
  writeFileSync(join(ROOT, `bench/results/footprint-${stamp}.md`), text);
}

await main();
