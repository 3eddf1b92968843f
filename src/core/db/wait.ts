import type { DatabasePool } from "slonik";
import type { Logger } from "../../shared/log.js";

/**
 * Opens the pool (slonik connects on creation), retrying for at most `waitMs` while the database
 * does not answer (0: one try; the error surfaces as before). Lets core start before its
 * database is up — `npm start` loads core's code while the embedded database initialises, and a
 * container may start before PostgreSQL — instead of exiting to be restarted. Throws the last
 * error once the time is up.
 */
export async function openWhenUp(
  open: () => Promise<DatabasePool>,
  options: { waitMs: number; log: Logger; retryMs?: number; clock?: () => number },
): Promise<DatabasePool> {
  const { waitMs, log, retryMs = 250, clock = Date.now } = options;
  const deadline = clock() + waitMs;
  let waiting = false;
  for (;;) {
    try {
      const pool = await open();
      if (waiting) log.info("database is up");
      return pool;
    } catch (err) {
      if (clock() + retryMs > deadline) throw err;
      if (!waiting) {
        log.info({ waitMs, err }, "waiting for the database");
        waiting = true;
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
}
