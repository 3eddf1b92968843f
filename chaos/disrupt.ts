import type { Failpoint } from "../src/core/engine/failpoints.js";
import type { Supervised } from "./procs.js";
import type { Rng } from "./rng.js";
import type { ChaosStack } from "./stack.js";

/** The node faults while the run is disrupted (healed before the final wait). */
export const FAULTS = { dropRate: 0.03, timeoutRate: 0.03, errorRate: 0.05 };

const FAILPOINTS: Failpoint[] = ["after_attempt_stored", "after_broadcast", "before_settle"];

/** What the disruptor did. */
export interface DisruptStats {
  kills: number;
  failpointsArmed: number;
  stalls: number;
}

/**
 * Kills `kills` times with SIGKILL (a core, the signer or the edge, at random moments about
 * `meanGapMs` apart); the supervisor restarts each at once, and one core restart in four is
 * armed with a failpoint so the new process also dies at a chosen step. Stops early on abort.
 */
export async function killLoop(
  stack: ChaosStack,
  rng: Rng,
  kills: number,
  meanGapMs: number,
  signal: AbortSignal,
  log: (msg: string) => void,
): Promise<DisruptStats> {
  const targets: Supervised[] = [...stack.cores, stack.signer];
  if (stack.edge) targets.push(stack.edge);
  const stats: DisruptStats = { kills: 0, failpointsArmed: 0, stalls: 0 };
  while (stats.kills < kills && !signal.aborted) {
    await sleep(rng.int(meanGapMs / 2, (meanGapMs * 3) / 2));
    const target = rng.pick(targets);
    const isCore = stack.cores.includes(target);
    const failpoint = isCore && rng.chance(0.25) ? rng.pick(FAILPOINTS) : undefined;
    // Kill a serving process, not one still starting: a kill must interrupt real work.
    await target.whenReady().catch(() => {});
    if (signal.aborted) break;
    if (!target.kill9(failpoint)) continue;
    log(`kill -9 ${target.spec.name}${failpoint ? ` (restart armed: ${failpoint})` : ""}`);
    stats.kills++;
    if (failpoint) stats.failpointsArmed++;
  }
  return stats;
}

/** Node faults on; solidification stalls for 1–3 s every 4–8 s until the signal aborts. */
export async function faultLoop(
  stack: ChaosStack,
  rng: Rng,
  signal: AbortSignal,
  stats: DisruptStats,
) {
  const admin = stack.net.devnet.admin;
  admin.setFaults(FAULTS);
  while (!signal.aborted) {
    await sleep(rng.int(4_000, 8_000), signal);
    if (signal.aborted) break;
    admin.setFaults({ stallSolidity: true });
    stats.stalls++;
    await sleep(rng.int(1_000, 3_000));
    admin.setFaults({ stallSolidity: false });
  }
}

/** Every fault off. */
export function heal(stack: ChaosStack): void {
  stack.net.devnet.admin.setFaults({
    dropRate: 0,
    timeoutRate: 0,
    errorRate: 0,
    stallSolidity: false,
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
