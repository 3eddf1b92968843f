import { ConnectError } from "@connectrpc/connect";
import { Command } from "commander";
import { reasonOf } from "../shared/errors.js";
import { registerAuditCommands } from "./audit.js";
import { registerBatchCommands } from "./batch.js";
import { registerEdgeCommands } from "./edge.js";
import { registerKeyCommands } from "./keys.js";
import { registerOpsCommands } from "./ops.js";
import { registerPayoutCommands } from "./payouts.js";
import { registerSignerCommands } from "./signer.js";
import { registerWalletCommands } from "./wallets.js";

/** The `tronpay` command line. Each group of subcommands lives in its own file. */
export function createProgram(): Command {
  const program = new Command("tronpay")
    .description("tronpay: exactly-once USDT and TRX payouts on TRON")
    .showHelpAfterError();
  registerSignerCommands(program);
  registerKeyCommands(program);
  registerPayoutCommands(program);
  registerBatchCommands(program);
  registerWalletCommands(program);
  registerEdgeCommands(program);
  registerAuditCommands(program);
  registerOpsCommands(program);
  return program;
}

/** One line for a failed command: the message, and our stable reason when there is one. */
export function errorLine(err: unknown): string {
  const message =
    err instanceof ConnectError ? err.rawMessage : err instanceof Error ? err.message : String(err);
  const reason = reasonOf(err);
  return `tronpay: ${message}${reason ? ` (${reason})` : ""}\n`;
}
