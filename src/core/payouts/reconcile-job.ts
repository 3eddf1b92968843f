import type { DatabasePool } from "slonik";
import type { Logger } from "../../shared/log.js";
import type { Chain } from "../chain/types.js";
import { advisoryUnlock, tryAdvisoryLock } from "../db/locks.js";
import { StateChanged } from "../engine/repo.js";
import { reconcilePayout } from "./reconcile.js";
import { payoutsToReconcile } from "./repo.js";

/** The actor the periodic job writes into the audit log. */
export const RECONCILE_ACTOR = "system:reconcile";
// Arbitrary constant: the advisory lock that keeps replicas from running the job together.
const JOB_LOCK = 7_242_003;

export interface ReconcileJobDeps {
  pool: DatabasePool;
  chain: Chain;
  log: Logger;
  /** How often the job runs (ms). */
  intervalMs: number;
  /** Confirmed payouts younger than this are checked again (ms). */
  recentMs: number;
  /** At most this many payouts per run. */
  batchSize: number;
}

/** One pass: reconciles in-flight and recently confirmed payouts; returns how many differed. */
export async function reconcileOnce(deps: Omit<ReconcileJobDeps, "intervalMs">): Promise<number> {
  return deps.pool.connect(async (conn) => {
    if (!(await tryAdvisoryLock(conn, JOB_LOCK))) return 0; // another replica is on it
    try {
      let differing = 0;
      for (const id of await payoutsToReconcile(conn, deps.recentMs, deps.batchSize)) {
        try {
          // On this connection: the embedded database has a pool of one.
          const result = await conn.transaction((tx) =>
            reconcilePayout(tx, deps.chain, RECONCILE_ACTOR, id),
          );
          if (result.discrepancies.length > 0) {
            differing++;
            deps.log.warn(
              { payoutId: id, discrepancies: result.discrepancies },
              "reconcile.discrepancy",
            );
          }
        } catch (err) {
          // The engine moved it meanwhile, or the node failed: the next pass looks again.
          if (!(err instanceof StateChanged))
            deps.log.warn({ payoutId: id, err }, "reconciliation of a payout failed");
        }
      }
      return differing;
    } finally {
      await advisoryUnlock(conn, JOB_LOCK);
    }
  });
}

/** Runs reconcileOnce every intervalMs until stopped. */
export function startReconcileJob(deps: ReconcileJobDeps): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = reconcileOnce(deps).catch((err) =>
      deps.log.error({ err }, "reconciliation pass failed"),
    );
  }, deps.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
