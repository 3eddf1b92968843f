import type { Command } from "commander";
import { verifyAudit } from "../core/audit.js";
import { openDatabase } from "../core/db/pool.js";

/**
 * `tronpay audit verify`: recomputes the audit log's hash chain straight from the database
 * (DATABASE_URL) and exits 1 when a row was altered, removed or inserted out of order.
 */
export function registerAuditCommands(program: Command): void {
  const audit = program
    .command("audit")
    .description("the hash-chained audit log (needs DATABASE_URL)");
  audit
    .command("verify")
    .description("recompute the whole chain; exit 1 on the first broken link")
    .action(async () => {
      const url = process.env.DATABASE_URL;
      if (!url) throw new Error("DATABASE_URL is not set");
      // Read-only on purpose: no migrations, so verifying never changes the database.
      const pool = await openDatabase(url, 1);
      try {
        const result = await verifyAudit(pool);
        if (result.ok) {
          process.stdout.write(`audit log intact: ${result.checked} entries verified\n`);
        } else {
          process.stdout.write(
            `audit log BROKEN at seq ${String(result.firstBadSeq)} (${result.checked} entries verified before it)\n`,
          );
          process.exitCode = 1;
        }
      } finally {
        await pool.end();
      }
    });
}
