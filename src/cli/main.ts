import { Command } from "commander";
import { registerKeyCommands } from "./keys.js";
import { registerSignerCommands } from "./signer.js";

/** The `tronpay` command line. Each group of subcommands lives in its own file. */
const program = new Command("tronpay")
  .description("tronpay: exactly-once USDT and TRX payouts on TRON")
  .showHelpAfterError();

registerSignerCommands(program);
registerKeyCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`tronpay: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
