import { type DatabasePool, sql } from "slonik";
import { z } from "zod";
import type { Logger } from "../shared/log.js";
import { verifyAudit } from "./audit.js";

// Arbitrary constant: the advisory lock that keeps replicas from verifying together.
const JOB_LOCK = 7_242_004;

export interface AuditJobDeps {
  pool: DatabasePool;
  log: Logger;
  /** How often the whole chain is verified (ms). */
  intervalMs: number;
  /** Told each verification's result and when it ran (ms since the epoch); for metrics. */
  onVerified: (ok: boolean, atMs: number) => void;
}

/**
 * One pass: verifies the whole audit hash chain unless another replica is doing it. Returns
 * the result, or undefined when it did not run.
 */
export async function verifyAuditOnce(
  deps: Omit<AuditJobDeps, "intervalMs">,
): Promise<boolean | undefined> {
  return deps.pool.connect(async (conn) => {
    const Locked = z.object({ locked: z.boolean() });
    const locked = await conn.oneFirst(
      sql.type(Locked)`SELECT pg_try_advisory_lock(${JOB_LOCK}) AS locked`,
    );
    if (!locked) return undefined;
    try {
      const result = await verifyAudit(conn);
      deps.onVerified(result.ok, Date.now());
      if (result.ok) deps.log.info({ checked: result.checked }, "audit chain verified");
      else
        deps.log.error(
          { firstBadSeq: result.firstBadSeq?.toString(), checked: result.checked },
          "audit chain does not verify",
        );
      return result.ok;
    } finally {
      await conn.query(sql.unsafe`SELECT pg_advisory_unlock(${JOB_LOCK})`);
    }
  });
}

/** Verifies the audit chain now and then every intervalMs until stopped. */
export function startAuditJob(deps: AuditJobDeps): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const pass = () => {
    running = verifyAuditOnce(deps).catch((err) =>
      deps.log.error({ err: String(err) }, "audit verification pass failed"),
    );
  };
  pass();
  const timer = setInterval(pass, deps.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
