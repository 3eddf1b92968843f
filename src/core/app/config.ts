import { z } from "zod";
import { FORWARD_SECRET_MIN_LENGTH } from "../../shared/client-origin.js";
import { type ConfigSpec, zc } from "../../shared/config.js";

/** Core's one typed config (flag > env > file > default). Amounts are decimal strings. */
export const coreConfigSpec = {
  schema: z.object({
    host: z.string().default("127.0.0.1"),
    port: zc.port().default(8090),
    /** PEM files: serve TLS (HTTP/2 with ALPN) instead of cleartext h2c when both are set. */
    tlsCertFile: z.string().default(""),
    tlsKeyFile: z.string().default(""),
    /** PEM CA bundle: ask clients for a certificate (optional; mTLS, see auth/client-cert.ts). */
    tlsClientCaFile: z.string().default(""),
    /** Client certificate names and their roles: "name=role|role", comma-separated. */
    mtlsPrincipals: zc.list().default([]),
    databaseUrl: z.string().min(1),
    /** Connections in core's pool; 1 for the embedded PGlite, which is a single backend. */
    databasePoolSize: zc.positiveInt().max(100).default(10),
    /** How long core waits at start for the database to answer (s); 0: fail at once. */
    databaseWaitSec: zc.nonNegativeInt().max(3600).default(0),
    /** Redis for rate limits; empty: in-memory limits only. */
    redisUrl: z.string().default(""),
    /** TRON full node URLs, tried in order. */
    nodeUrls: zc.list().pipe(z.array(z.string().url()).min(1)),
    usdtContract: z.string().min(1),
    signerSocket: z.string().min(1),
    /** How many operations the engine works on at once in this process. */
    workers: zc.positiveInt().max(256).default(16),
    /** How often an idle engine looks for work (ms). */
    pollMs: zc.positiveInt().default(500),
    /** expiration − reference block time for new attempts (s). */
    txLifetimeSec: zc.positiveInt().max(86_400).default(60),
    /** Wait after an attempt's expiration before replacing it (s); must not be below the signer's. */
    replacementMarginSec: zc.nonNegativeInt().default(120),
    /**
     * How far the solidified chain must be past an attempt's expiration before the attempt
     * counts as never includable (ms): a block may include a transaction validated against
     * the block before it, so keep this above a few block intervals (3 s on TRON).
     */
    expiryMarginMs: zc.nonNegativeInt().default(10_000),
    /** Rebroadcast the same bytes when unseen for this long (ms). */
    rebroadcastMs: zc.positiveInt().default(5_000),
    /**
     * How long a claimed operation is reserved for this process (ms). A crashed process's
     * claims come back after this; keep it longer than a step (node timeouts included).
     */
    leaseMs: zc.positiveInt().default(30_000),
    /** Give up (FAILED) after this many attempts that expired unincluded. */
    maxAttempts: zc.positiveInt().default(5),
    /** fee_limit for USDT calls, whole TRX. */
    feeLimitTrx: z.string().default("30"),
    /**
     * Per-route limits, whole units of the payout's asset. The defaults fit the signer's default
     * caps (10,000 per transaction, 100,000 per 24 h): a payout core accepts is one the signer
     * signs, instead of one that waits QUEUED on a refusal.
     */
    v0MaxPerPayout: z.string().default("1000"),
    v0MaxPerDay: z.string().default("10000"),
    kycMaxPerPayout: z.string().default("10000"),
    kycMaxPerDay: z.string().default("50000"),
    directMaxPerPayout: z.string().default("10000"),
    directMaxPerDay: z.string().default("40000"),
    /** Payouts above this need a second principal's approval (whole units). */
    approvalThreshold: z.string().default("5000"),
    /**
     * Energy top-up policy (off while empty): the wallet whose staked energy is delegated to the
     * payout wallet before a batch whose USDT transfers need more energy than it has.
     */
    energyTopUpStakingWallet: z.string().default(""),
    /** The wallet kept topped up; empty: the first PAYOUT-purpose wallet created. */
    energyTopUpPayoutWallet: z.string().default(""),
    /** Most TRX one top-up delegates (whole TRX). */
    energyTopUpMaxTrx: z.string().default("100000"),
    /** No second top-up for the payout wallet within this long of the last one (s). */
    energyTopUpCooldownSec: zc.nonNegativeInt().default(600),
    /** How long a batch's transfers wait for the top-up to confirm before paying anyway (s). */
    energyTopUpWaitSec: zc.nonNegativeInt().default(120),
    /** Hex secp256k1 public key (33 or 65 bytes) of the compliance signer for KYC payouts. */
    compliancePublicKey: z.string().default(""),
    /**
     * Several compliance keys, "key_id=hex" entries, comma-separated; a KYC payout names its
     * signer in compliance_signature.key_id. Rotate by adding the new key, then removing the old.
     */
    compliancePublicKeys: zc.list().default([]),
    /** Cooling-off before a new or changed payee address may be paid on DIRECT (s). */
    payeeCoolingOffSec: zc.nonNegativeInt().default(86_400),
    /** How often core re-checks in-flight and recently confirmed payouts against the chain (s). */
    reconcileIntervalSec: zc.positiveInt().default(600),
    /** How often core verifies the whole audit hash chain (s); the result is a metric. */
    auditVerifyIntervalSec: zc.positiveInt().default(3600),
    /** How often committed audit entries are linked into the hash chain (ms). */
    auditChainIntervalMs: zc.positiveInt().default(200),
    /** How often the signer signs the audit chain's head as a checkpoint, when it moved (s). */
    auditCheckpointIntervalSec: zc.positiveInt().default(60),
    /** off: direct to the TRON node; required: only through Tor's SOCKS port, failing closed. */
    torMode: z.enum(["off", "required"]).default("off"),
    torSocksHost: z.string().default("127.0.0.1"),
    torSocksPort: zc.port().default(9050),
    /** base64 of 32 bytes: seals webhook signing secrets at rest; empty refuses new endpoints. */
    webhookSecretKey: z.string().default(""),
    /**
     * Shared with the edge: the key of the MAC on the client origin it states for each call
     * (x-tronpay-client), so API keys' allowed_ips and onion_only see the edge's client, not
     * the edge. Empty: such statements are refused, and keys see their TCP peer.
     */
    edgeForwardSecret: zc.optionalKey(FORWARD_SECRET_MIN_LENGTH).default(""),
    /** Allow webhook URLs to loopback addresses, plain http included (tests, local setups). */
    webhookAllowLoopback: zc.bool().default(false),
    /** Whole-request limit of one webhook attempt (ms). */
    webhookTimeoutMs: zc.positiveInt().max(60_000).default(15_000),
    /** First webhook retry delay (ms); doubles per attempt up to webhookBackoffMaxMs, jittered. */
    webhookBackoffMs: zc.positiveInt().default(5_000),
    webhookBackoffMaxMs: zc.positiveInt().default(21_600_000),
    /** Webhook retries stop this long after the first attempt (s); then the endpoint is FAILING. */
    webhookRetryWindowSec: zc.positiveInt().default(259_200),
    logLevel: z.string().default("info"),
    /** Core's own files (the JWT signing key); created 0700 on first start. */
    dataDir: z.string().default(".data/core"),
    /** iss of tokens core issues, and the aud every accepted JWT must name. */
    jwtIssuer: z.string().default("tronpay-core"),
    jwtAudience: z.string().default("tronpay"),
    /** Default and maximum access-token lifetime (s), and the refresh token's. */
    jwtTtlSec: zc.positiveInt().default(900),
    jwtMaxTtlSec: zc.positiveInt().default(3600),
    refreshTtlSec: zc.positiveInt().default(7 * 86_400),
    /** Clock skew tolerated on exp and nbf (s); RFC 8725 asks for a small one. */
    jwtLeewaySec: zc.nonNegativeInt().max(300).default(30),
    /** Another issuer's tokens: its iss and its JWKS (file path or https URL); empty: none. */
    jwtExternalIssuer: z.string().default(""),
    jwtExternalJwks: z.string().default(""),
    /** Calls per minute per principal and method: reads, writes; failed auths per address. */
    rateReadPerMin: zc.positiveInt().default(1200),
    rateWritePerMin: zc.positiveInt().default(120),
    rateAuthFailuresPerMin: zc.positiveInt().default(20),
    /**
     * Batch items per minute per principal, on top of the write limit: CreatePayoutBatch costs
     * one point per item. At least 1,000, so one full batch always fits.
     */
    rateBatchItemsPerMin: zc.positiveInt().min(1000).default(5000),
    /** Failed auths per minute in all buckets before only recently good credentials get in. */
    rateAuthFailuresGlobalPerMin: zc.positiveInt().default(1000),
    /** Key prefix for core's keys in Redis. */
    redisKeyPrefix: z.string().default("tronpay:"),
    /** Metrics and liveness/readiness over plain HTTP; keep it on loopback or a private net. */
    adminHost: z.string().default("127.0.0.1"),
    adminPort: zc.port().default(9464),
  }),
  sources: {
    host: { env: "TRONPAY_CORE_HOST", flag: "host" },
    port: { env: "TRONPAY_CORE_PORT", flag: "port" },
    tlsCertFile: { env: "TRONPAY_CORE_TLS_CERT" },
    tlsKeyFile: { env: "TRONPAY_CORE_TLS_KEY" },
    tlsClientCaFile: { env: "TRONPAY_CORE_TLS_CLIENT_CA" },
    mtlsPrincipals: { env: "TRONPAY_CORE_MTLS_PRINCIPALS" },
    databaseUrl: { env: "DATABASE_URL", flag: "database-url", secret: true },
    databasePoolSize: { env: "TRONPAY_DATABASE_POOL_SIZE" },
    databaseWaitSec: { env: "TRONPAY_DATABASE_WAIT_SEC" },
    redisUrl: { env: "REDIS_URL", secret: true },
    nodeUrls: { env: "TRON_NODE_URL", flag: "node-url" },
    usdtContract: { env: "TRONPAY_USDT_CONTRACT", flag: "usdt-contract" },
    signerSocket: { env: "TRONPAY_SIGNER_SOCKET", flag: "signer-socket" },
    workers: { env: "TRONPAY_CORE_WORKERS" },
    pollMs: { env: "TRONPAY_CORE_POLL_MS" },
    txLifetimeSec: { env: "TRONPAY_TX_LIFETIME_SEC" },
    replacementMarginSec: { env: "TRONPAY_REPLACEMENT_MARGIN_SEC" },
    rebroadcastMs: { env: "TRONPAY_REBROADCAST_MS" },
    expiryMarginMs: { env: "TRONPAY_EXPIRY_MARGIN_MS" },
    maxAttempts: { env: "TRONPAY_MAX_ATTEMPTS" },
    leaseMs: { env: "TRONPAY_LEASE_MS" },
    feeLimitTrx: { env: "TRONPAY_FEE_LIMIT_TRX" },
    v0MaxPerPayout: { env: "TRONPAY_V0_MAX_PER_PAYOUT" },
    v0MaxPerDay: { env: "TRONPAY_V0_MAX_PER_DAY" },
    kycMaxPerPayout: { env: "TRONPAY_KYC_MAX_PER_PAYOUT" },
    kycMaxPerDay: { env: "TRONPAY_KYC_MAX_PER_DAY" },
    directMaxPerPayout: { env: "TRONPAY_DIRECT_MAX_PER_PAYOUT" },
    directMaxPerDay: { env: "TRONPAY_DIRECT_MAX_PER_DAY" },
    approvalThreshold: { env: "TRONPAY_APPROVAL_THRESHOLD" },
    energyTopUpStakingWallet: { env: "TRONPAY_ENERGY_TOPUP_STAKING_WALLET" },
    energyTopUpPayoutWallet: { env: "TRONPAY_ENERGY_TOPUP_PAYOUT_WALLET" },
    energyTopUpMaxTrx: { env: "TRONPAY_ENERGY_TOPUP_MAX_TRX" },
    energyTopUpCooldownSec: { env: "TRONPAY_ENERGY_TOPUP_COOLDOWN_SEC" },
    energyTopUpWaitSec: { env: "TRONPAY_ENERGY_TOPUP_WAIT_SEC" },
    compliancePublicKey: { env: "TRONPAY_COMPLIANCE_PUBLIC_KEY" },
    compliancePublicKeys: { env: "TRONPAY_COMPLIANCE_PUBLIC_KEYS" },
    payeeCoolingOffSec: { env: "TRONPAY_PAYEE_COOLING_OFF_SEC" },
    reconcileIntervalSec: { env: "TRONPAY_RECONCILE_INTERVAL_SEC" },
    auditVerifyIntervalSec: { env: "TRONPAY_AUDIT_VERIFY_INTERVAL_SEC" },
    auditChainIntervalMs: { env: "TRONPAY_AUDIT_CHAIN_INTERVAL_MS" },
    auditCheckpointIntervalSec: { env: "TRONPAY_AUDIT_CHECKPOINT_INTERVAL_SEC" },
    torMode: { env: "TOR_MODE", flag: "tor-mode" },
    torSocksHost: { env: "TOR_SOCKS_HOST" },
    torSocksPort: { env: "TOR_SOCKS_PORT" },
    webhookSecretKey: { env: "TRONPAY_WEBHOOK_SECRET_KEY", secret: true },
    edgeForwardSecret: { env: "TRONPAY_EDGE_FORWARD_SECRET", secret: true },
    webhookAllowLoopback: { env: "TRONPAY_WEBHOOK_ALLOW_LOOPBACK" },
    webhookTimeoutMs: { env: "TRONPAY_WEBHOOK_TIMEOUT_MS" },
    webhookBackoffMs: { env: "TRONPAY_WEBHOOK_BACKOFF_MS" },
    webhookBackoffMaxMs: { env: "TRONPAY_WEBHOOK_BACKOFF_MAX_MS" },
    webhookRetryWindowSec: { env: "TRONPAY_WEBHOOK_RETRY_WINDOW_SEC" },
    logLevel: { env: "LOG_LEVEL", flag: "log-level" },
    dataDir: { env: "TRONPAY_CORE_DATA_DIR", flag: "data-dir" },
    jwtIssuer: { env: "TRONPAY_JWT_ISSUER" },
    jwtAudience: { env: "TRONPAY_JWT_AUDIENCE" },
    jwtTtlSec: { env: "TRONPAY_JWT_TTL_SEC" },
    jwtMaxTtlSec: { env: "TRONPAY_JWT_MAX_TTL_SEC" },
    refreshTtlSec: { env: "TRONPAY_REFRESH_TTL_SEC" },
    jwtLeewaySec: { env: "TRONPAY_JWT_LEEWAY_SEC" },
    jwtExternalIssuer: { env: "TRONPAY_JWT_EXTERNAL_ISSUER" },
    jwtExternalJwks: { env: "TRONPAY_JWT_EXTERNAL_JWKS" },
    rateReadPerMin: { env: "TRONPAY_RATE_READ_PER_MIN" },
    rateWritePerMin: { env: "TRONPAY_RATE_WRITE_PER_MIN" },
    rateAuthFailuresPerMin: { env: "TRONPAY_RATE_AUTH_FAILURES_PER_MIN" },
    rateBatchItemsPerMin: { env: "TRONPAY_RATE_BATCH_ITEMS_PER_MIN" },
    rateAuthFailuresGlobalPerMin: { env: "TRONPAY_RATE_AUTH_FAILURES_GLOBAL_PER_MIN" },
    redisKeyPrefix: { env: "TRONPAY_REDIS_KEY_PREFIX" },
    adminHost: { env: "TRONPAY_CORE_ADMIN_HOST" },
    adminPort: { env: "TRONPAY_CORE_ADMIN_PORT", flag: "admin-port" },
  },
} satisfies ConfigSpec<z.AnyZodObject>;

export type CoreConfig = z.infer<typeof coreConfigSpec.schema>;
