/**
 * Where core's CPU goes under CreatePayout load: starts the stack with core under --cpu-prof,
 * drives CreatePayout over Connect at `--in-flight` for `--seconds`, stops core (the profile is
 * written on exit) and prints self time by package / file and the top functions, plus how many
 * statements PostgreSQL ran per request (pg_stat_database's xact and tuple counters).
 *
 *   npx tsx bench/profile-core.ts [--in-flight 64 --seconds 10 --dir /tmp/core-prof]
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sql } from "slonik";
import { z } from "zod";
import { fundedWallet, startChaosStack } from "../chaos/stack.js";
import { TRX } from "../test/devnet/helpers.js";
import { connectCaller } from "./clients.js";
import { summarizeProfile } from "./cpuprofile.js";
import { closedLoop } from "./loop.js";

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux, 100 Hz ticks). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const { values } = parseArgs({
  options: {
    "in-flight": { type: "string", default: "64" },
    seconds: { type: "string", default: "10" },
    dir: { type: "string", default: "bench/results/profile" },
  },
});
const dir = values.dir;
mkdirSync(dir, { recursive: true });
const before = new Set(readdirSync(dir));
const stack = await startChaosStack({
  cores: 1,
  withEdge: false,
  devnet: { blockTimeMs: 100, solidLag: 2 },
  coreEnv: {
    TRONPAY_CORE_POLL_MS: "86400000",
    TRONPAY_V0_MAX_PER_DAY: "100000000",
  },
  coreNodeArgs: ["--cpu-prof", "--cpu-prof-dir", dir, "--require", "./bench/exit-on-usr2.cjs"],
});
const Calls = z.object({ xact: z.bigint(), tup: z.bigint() });
const counters = () =>
  stack.db.pool.one(sql.type(Calls)`
    SELECT xact_commit + xact_rollback AS xact, tup_inserted + tup_updated + tup_fetched AS tup
    FROM pg_stat_database WHERE datname = current_database()`);
let n = 0;
try {
  const wallet = await fundedWallet(stack, "prof", { trxSun: 1_000n * TRX, usdt: 10n ** 15n });
  const call = connectCaller(stack, wallet.id, "p");
  await closedLoop(4, 1_000, (i) => call(1e9 + i));
  const c0 = await counters();
  // What core's connections wait on, sampled every 20 ms while the load runs.
  const waits = new Map<string, number>();
  let sampling = true;
  const Wait = z.object({ what: z.string(), n: z.number() });
  const sampler = (async () => {
    while (sampling) {
      const rows = await stack.db.pool.any(sql.type(Wait)`
        SELECT coalesce(state, '?') || ' ' || coalesce(wait_event_type || ':' || wait_event, 'on CPU') AS what,
               count(*)::int AS n
        FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        GROUP BY 1`);
      for (const row of rows) waits.set(row.what, (waits.get(row.what) ?? 0) + row.n);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const corePid = stack.cores[0]?.pid();
  const cpu0 = { core: cpuMs(corePid), bench: process.cpuUsage() };
  const r = await closedLoop(Number(values["in-flight"]), Number(values.seconds) * 1000, call);
  const coreCpu = cpuMs(corePid) - cpu0.core;
  const benchUsage = process.cpuUsage(cpu0.bench);
  sampling = false;
  await sampler;
  const samples = [...waits.values()].reduce((a, b) => a + b, 0);
  console.log("core's database connections (share of samples):");
  for (const [what, k] of [...waits.entries()].sort((a, b) => b[1] - a[1]))
    console.log(`  ${((100 * k) / samples).toFixed(1).padStart(5)}%  ${what}`);
  // pg_stat_database is updated when a backend reports (at most every 500 ms or so).
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const c1 = await counters();
  n = Math.round(r.rps * Number(values.seconds));
  console.log(
    `CPU per request: core ${(coreCpu / n).toFixed(2)} ms, this load generator ${((benchUsage.user + benchUsage.system) / 1000 / n).toFixed(2)} ms`,
  );
  console.log(
    `${values["in-flight"]} in flight: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, ${r.errors} errors; database transactions per request ${(Number(c1.xact - c0.xact) / n).toFixed(2)}`,
  );
  // Core writes its profile when it exits (its graceful stop waits for our open sessions).
  const core = stack.cores[0];
  const pid = core?.pid();
  if (core && pid) {
    const exited = new Promise<void>((r) => core.child?.once("exit", () => r()));
    const t0 = performance.now();
    process.kill(pid, "SIGUSR2");
    await exited;
    console.log(`core exited ${(performance.now() - t0).toFixed(0)} ms after SIGUSR2`);
  }
} finally {
  await stack.stop();
}
const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile") && !before.has(f));
if (!file) throw new Error("no profile written");
summarizeProfile(join(dir, file), n);
process.exit(0);
