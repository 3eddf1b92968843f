import { parseArgs } from "node:util";
import { TRX } from "../test/devnet/helpers.js";
import { type Verdict, verify, waitTerminal } from "./check.js";
import { type DisruptStats, faultLoop, heal, killLoop } from "./disrupt.js";
import { runLoad } from "./load.js";
import { makePlan } from "./plan.js";
import { Rng } from "./rng.js";
import { fundedWallet, startChaosStack } from "./stack.js";
import { reportWebhooks, startWebhookCheck } from "./webhooks.js";

/**
 * npm run chaos -- --payouts N --kills K [--seed S]: the real processes under node faults and
 * SIGKILLs; then the invariants against the devnet's chain. Exits 1 on any violation.
 */

const { values } = parseArgs({
  options: {
    payouts: { type: "string", default: "300" },
    kills: { type: "string", default: "30" },
    seed: { type: "string" },
    "deadline-sec": { type: "string", default: "600" },
    concurrency: { type: "string", default: "8" },
    "kill-gap-ms": { type: "string" },
  },
});
const n = Number(values.payouts);
const kills = Number(values.kills);
const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const rng = new Rng(seed);
const deadlineMs = Number(values["deadline-sec"]) * 1000;
const started = Date.now();
const say = (msg: string) =>
  console.log(`[chaos ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

say(`seed ${seed} (replay: npm run chaos -- --payouts ${n} --kills ${kills} --seed ${seed})`);
const stack = await startChaosStack({
  cores: 2,
  devnet: { blockTimeMs: 100, solidLag: 2 },
  withEdge: true,
  coreEnv: {
    TRONPAY_CORE_POLL_MS: "50",
    TRONPAY_REBROADCAST_MS: "1000",
    TRONPAY_REPLACEMENT_MARGIN_SEC: "1",
    TRONPAY_TX_LIFETIME_SEC: "10",
    TRONPAY_EXPIRY_MARGIN_MS: "1000",
    TRONPAY_LEASE_MS: "2000",
    TRONPAY_V0_MAX_PER_DAY: "100000000",
  },
});
// Interrupted (Ctrl-C, a CI timeout): stop the supervised processes, which would otherwise keep
// restarting each other with nobody to stop them.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping the stack`);
    void stack.stop().finally(() => process.exit(130));
  });
}
let verdict: Verdict | undefined;
const skipped: string[] = [];
try {
  if (stack.edgeSkip)
    skipped.push(`edge: ${stack.edgeSkip} (REST submissions and edge kills skipped)`);
  const hooks = await startWebhookCheck(stack);
  const wallet = await fundedWallet(stack, "chaos", {
    trxSun: 100_000_000n * TRX,
    usdt: 10n ** 15n,
  });
  const jobs = makePlan(rng, n, stack.edge !== undefined);
  say(
    `stack up (2 cores, signer, ${stack.edge ? "edge" : "no edge"}); ${jobs.length} jobs for ${n} payouts`,
  );

  const disrupting = new AbortController();
  const gap = Number(
    values["kill-gap-ms"] ?? Math.max(200, Math.round((n * 60) / Math.max(1, kills))),
  );
  const stats: DisruptStats = { kills: 0, failpointsArmed: 0, stalls: 0 };
  const faults = faultLoop(stack, rng, disrupting.signal, stats);
  const killing = killLoop(stack, rng, kills, gap, disrupting.signal, say).then((s) =>
    Object.assign(stats, { kills: s.kills, failpointsArmed: s.failpointsArmed }),
  );
  // A client keeps retrying with its key until answered: giving up would leave a payout that was
  // stored but whose answer was lost, which the checks could not attribute.
  const load = await runLoad(stack, jobs, Number(values.concurrency), wallet.id, deadlineMs);
  say(
    `submitted: ${load.accepted.size} accepted, ${load.refused.length} refused, ${load.retries} retries`,
  );
  await killing;
  disrupting.abort();
  await faults;
  heal(stack);
  say(
    `disruption over: ${stats.kills} kills, ${stats.failpointsArmed} failpoints armed, ${stats.stalls} solidity stalls; faults healed`,
  );
  await Promise.all(
    [...stack.cores, stack.signer, stack.edge].map((p) => p?.whenReady().catch(() => {})),
  );

  const states = await waitTerminal(stack, [...load.accepted.keys()], deadlineMs);
  stack.net.solidify();
  verdict = await verify(stack, load, states, wallet.address);
  // Bounded: two minutes without a new delivery (leases of killed cores run out in 15 s), or
  // ten in all.
  const hooksCensus = await hooks.settle(stack, { idleMs: 120_000, maxMs: 600_000 });
  await hooks.close();
  // Webhooks are built: a check that could not run (no receiver registered) fails the run.
  if (hooks.skip)
    verdict.violations.push(`webhooks: the delivery check did not run: ${hooks.skip}`);
  if (hooksCensus) reportWebhooks(hooksCensus, verdict, say);
  report(verdict, load.cancelTooLate);
} finally {
  await stack.stop();
}
for (const s of skipped) say(`SKIPPED ${s}`);
const failed = (verdict?.violations.length ?? 1) > 0;
say(failed ? `FAILED (seed ${seed})` : `OK (seed ${seed})`);
process.exit(failed ? 1 : 0);

function report(v: Verdict, cancelTooLate: number) {
  const c = v.counts;
  say(
    `accepted ${c.accepted}, confirmed ${c.confirmed}, failed ${c.failed}, cancelled ${c.cancelled} (${cancelTooLate} cancels too late: already signed), refused ${c.refused}`,
  );
  say(`duplicates ${c.duplicates}, lost ${c.lost}; audit rows verified ${c.auditRows}`);
  const survived = [...stack.cores, stack.signer, ...(stack.edge ? [stack.edge] : [])]
    .map(
      (p) =>
        `${p.spec.name} ${p.deaths.kill}+${p.deaths.failpoint}fp${p.deaths.other ? `+${p.deaths.other}other` : ""}`,
    )
    .join(", ");
  say(`kills survived by process (SIGKILL+failpoint): ${survived}`);
  for (const line of v.violations.slice(0, 50)) say(`VIOLATION ${line}`);
  // For diagnosis: the last warnings and errors each process logged (its ring of lines).
  if (v.violations.length > 0) {
    for (const p of [...stack.cores, stack.signer]) {
      const bad = p.lines.filter((l) => /"level":(40|50|60)/.test(l)).slice(-3);
      for (const l of bad) say(`${p.spec.name} log: ${l.slice(0, 400)}`);
    }
  }
  if (v.violations.length > 50) say(`… and ${v.violations.length - 50} more violations`);
}
