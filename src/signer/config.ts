import { z } from "zod";
import { type ConfigSpec, zc } from "../shared/config.js";

/** The signer's one typed config (flag > env > file > default). */
export const signerConfigSpec = {
  schema: z.object({
    /** Directory for the socket, keystore and journal unless given one by one. */
    dataDir: z.string().default(".data/signer"),
    socketPath: z.string().optional(),
    keystorePath: z.string().optional(),
    journalPath: z.string().optional(),
    /** Keystore passphrase, or a file holding it, or an age identity file. */
    passphrase: z.string().optional(),
    passphraseFile: z.string().optional(),
    identityFile: z.string().optional(),
    /** scrypt work factor (log2) for passphrase encryption; tests lower it. */
    scryptLogN: zc.positiveInt().max(22).default(18),
    /** age recipients (age1…) that backups are encrypted to; empty: the keystore credential. */
    backupRecipients: zc.list().default([]),
    /** The TRC-20 USDT contract the signer may call; required to serve, not for keystore commands. */
    usdtContract: z.string().default(""),
    /** Caps as decimal strings of whole TRX / USDT. */
    maxPerTxTrx: z.string().default("10000"),
    maxPerTxUsdt: z.string().default("10000"),
    maxPer24hTrx: z.string().default("100000"),
    maxPer24hUsdt: z.string().default("100000"),
    /** Largest fee_limit for a contract call, whole TRX. */
    maxFeeLimitTrx: z.string().default("100"),
    /** Largest expiration − timestamp, seconds. */
    maxLifetimeSec: zc.positiveInt().default(600),
    allowMemo: zc.bool().default(false),
    allowlist: zc.list().default([]),
    denylist: zc.list().default([]),
    ownReceiversOnly: zc.bool().default(true),
    /** Seconds after an attempt's expiration before a replacement may be signed. */
    replacementMarginSec: zc.nonNegativeInt().default(120),
    /** Seconds after an import before the key may receive a USDT allowance or a delegation. */
    importedKeyCoolingOffSec: zc.nonNegativeInt().default(86_400),
    maxRawBytes: zc.positiveInt().default(16 * 1024),
    logLevel: z.string().default("info"),
  }),
  sources: {
    dataDir: { env: "TRONPAY_SIGNER_DATA_DIR", flag: "data-dir" },
    socketPath: { env: "TRONPAY_SIGNER_SOCKET", flag: "socket" },
    keystorePath: { env: "TRONPAY_SIGNER_KEYSTORE", flag: "keystore" },
    journalPath: { env: "TRONPAY_SIGNER_JOURNAL", flag: "journal" },
    passphrase: { env: "TRONPAY_SIGNER_PASSPHRASE", secret: true },
    passphraseFile: { env: "TRONPAY_SIGNER_PASSPHRASE_FILE", flag: "passphrase-file" },
    identityFile: { env: "TRONPAY_SIGNER_IDENTITY_FILE", flag: "identity-file" },
    scryptLogN: { env: "TRONPAY_SIGNER_SCRYPT_LOG_N" },
    backupRecipients: { env: "TRONPAY_SIGNER_BACKUP_RECIPIENTS" },
    usdtContract: { env: "TRONPAY_USDT_CONTRACT", flag: "usdt-contract" },
    maxPerTxTrx: { env: "TRONPAY_SIGNER_MAX_PER_TX_TRX" },
    maxPerTxUsdt: { env: "TRONPAY_SIGNER_MAX_PER_TX_USDT" },
    maxPer24hTrx: { env: "TRONPAY_SIGNER_MAX_PER_24H_TRX" },
    maxPer24hUsdt: { env: "TRONPAY_SIGNER_MAX_PER_24H_USDT" },
    maxFeeLimitTrx: { env: "TRONPAY_SIGNER_MAX_FEE_LIMIT_TRX" },
    maxLifetimeSec: { env: "TRONPAY_SIGNER_MAX_LIFETIME_SEC" },
    allowMemo: { env: "TRONPAY_SIGNER_ALLOW_MEMO" },
    allowlist: { env: "TRONPAY_SIGNER_ALLOWLIST" },
    denylist: { env: "TRONPAY_SIGNER_DENYLIST" },
    ownReceiversOnly: { env: "TRONPAY_SIGNER_OWN_RECEIVERS_ONLY" },
    replacementMarginSec: { env: "TRONPAY_SIGNER_REPLACEMENT_MARGIN_SEC" },
    importedKeyCoolingOffSec: { env: "TRONPAY_SIGNER_IMPORTED_KEY_COOLING_OFF_SEC" },
    maxRawBytes: { env: "TRONPAY_SIGNER_MAX_RAW_BYTES" },
    logLevel: { env: "LOG_LEVEL", flag: "log-level" },
  },
} satisfies ConfigSpec<z.AnyZodObject>;

export type SignerConfig = z.infer<typeof signerConfigSpec.schema>;
