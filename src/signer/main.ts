import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseAddress, toBase58 } from "../shared/address.js";
import { systemClock } from "../shared/clock.js";
import { describeConfig, loadConfig, parseFlags } from "../shared/config.js";
import { AppError } from "../shared/errors.js";
import { createLogger, type Logger } from "../shared/log.js";
import { parseAmount } from "../shared/money.js";
import { CheckpointJournal } from "./audit-checkpoints.js";
import { type SignerConfig, signerConfigSpec } from "./config.js";
import { Journal } from "./journal.js";
import { Keystore, type KeystoreCredential } from "./keystore.js";
import { INTENT_CONTRACT_TYPES, type Policy } from "./policy.js";
import { serveSigner } from "./server.js";

/** Resolved file locations of a signer. */
export function signerPaths(config: SignerConfig) {
  const journalPath = config.journalPath ?? join(config.dataDir, "journal.log");
  return {
    socketPath: config.socketPath ?? join(config.dataDir, "signer.sock"),
    keystorePath: config.keystorePath ?? join(config.dataDir, "keystore.age"),
    journalPath,
    // Beside the signing journal: what the signer signed lives together.
    checkpointJournalDir: dirname(journalPath),
  };
}

/** The keystore credential from config: identity file, passphrase file or passphrase. */
export function credentialOf(config: SignerConfig): KeystoreCredential {
  if (config.identityFile) {
    const identity = readFileSync(config.identityFile, "utf8")
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l.startsWith("AGE-SECRET-KEY-"));
    if (!identity) throw new Error("the identity file holds no AGE-SECRET-KEY line");
    return { identity };
  }
  const passphrase = config.passphraseFile
    ? readFileSync(config.passphraseFile, "utf8").trim()
    : config.passphrase;
  if (!passphrase)
    throw new Error(
      "no keystore credential: set TRONPAY_SIGNER_PASSPHRASE(_FILE) or an identity file",
    );
  return { passphrase, scryptLogN: config.scryptLogN };
}

/** The signing policy from config (caps in whole units become base units). */
export function policyOf(config: SignerConfig): Policy {
  if (config.usdtContract === "") {
    throw new AppError(
      "config.invalid",
      "invalid configuration: usdtContract is required (TRONPAY_USDT_CONTRACT)",
    );
  }
  return {
    allowedContracts: INTENT_CONTRACT_TYPES,
    usdtContract: toBase58(parseAddress(config.usdtContract, "usdtContract")),
    maxPerTx: { TRX: parseAmount(config.maxPerTxTrx), USDT: parseAmount(config.maxPerTxUsdt) },
    maxPer24h: { TRX: parseAmount(config.maxPer24hTrx), USDT: parseAmount(config.maxPer24hUsdt) },
    maxFeeLimit: parseAmount(config.maxFeeLimitTrx),
    maxLifetimeMs: config.maxLifetimeSec * 1000,
    allowMemo: config.allowMemo,
    allowlist: config.allowlist.map((a) => toBase58(parseAddress(a, "allowlist"))),
    denylist: config.denylist.map((a) => toBase58(parseAddress(a, "denylist"))),
    ownReceiversOnly: config.ownReceiversOnly,
    replacementMarginMs: config.replacementMarginSec * 1000,
    importedKeyCoolingOffMs: config.importedKeyCoolingOffSec * 1000,
  };
}

/** Starts the signer from flags and environment; resolves once it is listening. */
export async function runSigner(argv: readonly string[], env: NodeJS.ProcessEnv, log?: Logger) {
  const flags = parseFlags(argv);
  const config = loadConfig(signerConfigSpec, {
    flags,
    env,
    file: flags.config ?? env.TRONPAY_SIGNER_CONFIG,
  });
  const logger = log ?? createLogger({ name: "signer", level: config.logLevel });
  logger.info({ config: describeConfig(signerConfigSpec, config) }, "signer starting");
  const paths = signerPaths(config);
  const keystore = await Keystore.open(paths.keystorePath, credentialOf(config));
  const journal = Journal.open(paths.journalPath, systemClock, (err) => {
    // The in-memory journal may be ahead of the disk: stop before anything else is signed.
    logger.fatal({ err }, "journal write failed; exiting");
    process.exit(70);
  });
  const auditSecret = keystore.auditSecret();
  const checkpointJournal = CheckpointJournal.pathFor(paths.checkpointJournalDir, auditSecret);
  const checkpoints = CheckpointJournal.open(checkpointJournal, auditSecret, systemClock);
  logger.info(
    { auditPublicKey: Buffer.from(checkpoints.publicKey).toString("hex"), checkpointJournal },
    "audit checkpoint key",
  );
  const server = await serveSigner(
    {
      keystore,
      journal,
      policy: policyOf(config),
      clock: systemClock,
      log: logger,
      maxRawBytes: config.maxRawBytes,
      backupRecipients: config.backupRecipients,
      checkpoints,
    },
    paths.socketPath,
  );
  logger.info(
    { socket: paths.socketPath, keys: keystore.list().length, journal: journal.size },
    "signer ready",
  );
  const stop = async () => {
    await server.close();
    await journal.close();
    checkpoints.close();
  };
  return { server, journal, keystore, stop };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const log = createLogger({ name: "signer" });
  runSigner(process.argv.slice(2), process.env, log)
    .then(({ stop }) => {
      const shutdown = () => void stop().then(() => process.exit(0));
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
    })
    .catch((err) => {
      log.fatal({ err }, "signer failed to start");
      process.exit(1);
    });
}
