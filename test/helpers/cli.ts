import type { Command } from "commander";
import { vi } from "vitest";
import { createProgram } from "../../src/cli/program.js";

/**
 * Runs `tronpay <args>` in the test's own process, the real commands with the process's
 * environment, and resolves with what it wrote to stdout; a failing command rejects (commander
 * throws rather than exits). Tests that need a separate process run bin/tronpay.js instead.
 */
export async function runCli(...args: string[]): Promise<string> {
  let out = "";
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    const program = createProgram();
    // Every subcommand too: exitOverride reaches only the commands added after it.
    const throwing = (cmd: Command): void => {
      cmd.exitOverride();
      cmd.commands.forEach(throwing);
    };
    throwing(program);
    await program.parseAsync(["node", "tronpay", ...args]);
  } finally {
    write.mockRestore();
  }
  return out;
}
