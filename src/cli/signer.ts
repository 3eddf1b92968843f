import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Command } from "commander";
import { loadConfig, parseFlags } from "../shared/config.js";
import { signerConfigSpec } from "../signer/config.js";
import { Keystore } from "../signer/keystore.js";
import { credentialOf, runSigner, signerPaths } from "../signer/main.js";

/** `tronpay signer …`: run the signer, and create, back up or restore its keystore. */
export function registerSignerCommands(program: Command): void {
  const signer = program
    .command("signer")
    .description("run the signer (keys, policy, journal) on its Unix socket")
    .allowUnknownOption()
    .helpOption("-h, --help")
    .action(async (_opts, cmd: Command) => {
      const { stop } = await runSigner(cmd.args, process.env);
      const shutdown = () => void stop().then(() => process.exit(0));
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
    });

  signer
    .command("init")
    .description("create an encrypted keystore and show its mnemonic once")
    .allowUnknownOption()
    .action(async (_opts, cmd: Command) => {
      const config = configFrom(cmd.args);
      const path = signerPaths(config).keystorePath;
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const { mnemonic } = await Keystore.create(path, credentialOf(config));
      process.stdout.write(
        `Keystore created at ${path}.\n\nWrite down this recovery phrase now; it is shown only once:\n\n  ${mnemonic}\n\n`,
      );
    });

  signer
    .command("backup")
    .description("write an age-encrypted backup of the keystore")
    .requiredOption("--out <file>", "where to write the backup")
    .allowUnknownOption()
    .action(async (opts: { out: string }, cmd: Command) => {
      const config = configFrom(cmd.args);
      const keystore = await Keystore.open(signerPaths(config).keystorePath, credentialOf(config));
      writeFileSync(opts.out, await keystore.exportBackup(config.backupRecipients), {
        mode: 0o600,
        flag: "wx",
      });
      process.stdout.write(`Backup of ${keystore.list().length} keys written to ${opts.out}.\n`);
    });

  signer
    .command("restore")
    .description("replace the keystore with an age-encrypted backup")
    .requiredOption("--in <file>", "the backup to restore")
    .allowUnknownOption()
    .action(async (opts: { in: string }, cmd: Command) => {
      const config = configFrom(cmd.args);
      const path = signerPaths(config).keystorePath;
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const keystore = await Keystore.restore(path, credentialOf(config), readFileSync(opts.in));
      process.stdout.write(`Restored ${keystore.list().length} keys to ${path}.\n`);
    });
}

function configFrom(args: readonly string[]) {
  const flags = parseFlags(args);
  return loadConfig(signerConfigSpec, {
    flags,
    env: process.env,
    file: flags.config ?? process.env.TRONPAY_SIGNER_CONFIG,
  });
}
