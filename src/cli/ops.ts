import type { Command } from "commander";
import { migrate } from "../core/db/migrate.js";
import { openDatabase } from "../core/db/pool.js";

/** `tronpay migrate` and `tronpay devnet`: operator commands around core's database and the devnet. */
export function registerOpsCommands(program: Command): void {
  program
    .command("migrate")
    .description("apply pending database migrations (core also applies them at start)")
    .option("--database-url <url>", "PostgreSQL URL (default: DATABASE_URL)")
    .action(async (opts: { databaseUrl?: string }) => {
      const url = opts.databaseUrl ?? process.env.DATABASE_URL;
      if (!url) throw new Error("set DATABASE_URL or --database-url");
      const pool = await openDatabase(url, 1);
      try {
        const applied = await migrate(pool);
        process.stdout.write(
          applied.length === 0
            ? "Database is up to date.\n"
            : `Applied migrations ${applied.join(", ")}.\n`,
        );
      } finally {
        await pool.end();
      }
    });

  program
    .command("devnet")
    .description(
      "run the local TRON node emulator (flags as in npm run devnet: --port, --block-time-ms, …)",
    )
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption("-h, --help")
    .action(async () => {
      // The devnet's entry point reads its flags from process.argv itself.
      process.argv = [process.argv[0] ?? "node", "devnet", ...process.argv.slice(3)];
      await import("../devnet/main.js");
      await new Promise(() => {});
    });
}
