import { createClient } from "@connectrpc/connect";
import { SignerService } from "../../gen/tronpay/signer/v1/signer_pb.js";
import { describeConfig, loadConfig, parseFlags } from "../../shared/config.js";
import { errorInterceptor, unixSocketTransport } from "../../shared/connect.js";
import { createLogger, type Logger } from "../../shared/log.js";
import { parseAmount } from "../../shared/money.js";
import { createSocksFetch } from "../../shared/tor-socks.js";
import { isPaused } from "../admin/pause.js";
import { loadCoreTls, parseCertPrincipals } from "../auth/client-cert.js";
import { createChain } from "../chain/index.js";
import { migrate } from "../db/migrate.js";
import { openDatabase } from "../db/pool.js";
import { openWhenUp } from "../db/wait.js";
import { ENGINE_READ_MAX_AGE_MS, type EngineSettings } from "../engine/deps.js";
import { startEngine } from "../engine/worker.js";
import { startCoreHealth } from "../health/index.js";
import { startFollower } from "../incoming/scanner.js";
import { clientContextValues, createAuthInterceptor } from "../interceptors/auth.js";
import { createBatchBudgetInterceptor } from "../interceptors/batch-budget.js";
import { createObserveInterceptor, forwardRequestId } from "../interceptors/observe.js";
import { requestCheckInterceptor } from "../interceptors/request-check.js";
import { setUpAccess } from "../kernel/access.js";
import { startAuditJob } from "../kernel/audit-job.js";
import { purgeIdempotencyKeys } from "../kernel/idempotency.js";
import { createSignerPolicyView } from "../operations/signer-policy.js";
import { parseComplianceKeys } from "../payouts/compliance.js";
import { startReconcileJob } from "../payouts/reconcile-job.js";
import type { PayoutRules } from "../payouts/validate.js";
import { createEnergyTopUp, topUpSettingsOf } from "../staking/topup.js";
import { startWebhooks, webhookDepsOf } from "../webhooks/setup.js";
import { type CoreConfig, coreConfigSpec } from "./config.js";
import { createMetrics, nodeObserver, signerMetricsInterceptor } from "./metrics.js";
import { serveAdminHttp } from "./ops-http.js";
import { registerRoutes } from "./routes.js";
import { serveCore } from "./server.js";

/** How old core's copy of the signer's policy may get before it asks again (ms). */
const SIGNER_POLICY_MAX_AGE_MS = 10_000;

/** The engine settings from config. */
export function engineSettingsOf(config: CoreConfig): EngineSettings {
  return {
    lifetimeMs: config.txLifetimeSec * 1000,
    replacementMarginMs: config.replacementMarginSec * 1000,
    expiryMarginMs: config.expiryMarginMs,
    rebroadcastMs: config.rebroadcastMs,
    followMs: Math.min(config.rebroadcastMs, 1_000),
    holdRecheckMs: 15_000,
    maxAttempts: config.maxAttempts,
    feeLimitSun: parseAmount(config.feeLimitTrx, "feeLimitTrx"),
    leaseMs: config.leaseMs,
  };
}

/** The payout rules from config (limits in whole units become base units). */
export function payoutRulesOf(config: CoreConfig): PayoutRules {
  const limit = (perPayout: string, perDay: string) => ({
    maxPerPayout: parseAmount(perPayout),
    maxPerDay: parseAmount(perDay),
  });
  return {
    limits: {
      V0: limit(config.v0MaxPerPayout, config.v0MaxPerDay),
      KYC: limit(config.kycMaxPerPayout, config.kycMaxPerDay),
      DIRECT: limit(config.directMaxPerPayout, config.directMaxPerDay),
    },
    approvalThreshold: parseAmount(config.approvalThreshold),
    complianceKeys: parseComplianceKeys(config.compliancePublicKey, config.compliancePublicKeys),
  };
}

/** Starts core: migrations, the API server and the payout engine. Resolves once serving. */
export async function runCore(argv: readonly string[], env: NodeJS.ProcessEnv, log?: Logger) {
  const flags = parseFlags(argv);
  const config = loadConfig(coreConfigSpec, {
    flags,
    env,
    file: flags.config ?? env.TRONPAY_CORE_CONFIG,
  });
  const logger = log ?? createLogger({ name: "core", level: config.logLevel });
  logger.info({ config: describeConfig(coreConfigSpec, config) }, "core starting");
  const pool = await openWhenUp(() => openDatabase(config.databaseUrl, config.databasePoolSize), {
    waitMs: config.databaseWaitSec * 1000,
    log: logger,
  });
  const applied = await migrate(pool);
  if (applied.length > 0) logger.info({ applied }, "migrations applied");
  // Scrape-time series read the chain created just below (scrapes start once serving).
  const metrics = createMetrics({
    pool,
    node: () => chain.status(),
    balances: (address) => chain.balances(address),
  });
  const chain = createChain({
    nodeUrls: [...config.nodeUrls],
    usdtContract: config.usdtContract,
    log: logger,
    // In tor mode every node call goes through Tor's SOCKS port, with no direct fallback.
    fetch:
      config.torMode === "required"
        ? createSocksFetch({ host: config.torSocksHost, port: config.torSocksPort })
        : undefined,
    observer: nodeObserver(metrics),
    referenceBlockMaxAgeMs: ENGINE_READ_MAX_AGE_MS,
  });
  const signer = createClient(
    SignerService,
    unixSocketTransport(config.signerSocket, [forwardRequestId, signerMetricsInterceptor(metrics)]),
  );
  const clock = Date.now;
  // What the signer will refuse is refused at the API, with the signer's reason.
  const signerPolicy = createSignerPolicyView({
    signer,
    log: logger.child({ component: "signer-policy" }),
    clock,
    maxAgeMs: SIGNER_POLICY_MAX_AGE_MS,
  });
  const webhooks = webhookDepsOf(config);
  const energyTopUp = topUpSettingsOf(config);
  const engine = startEngine(
    {
      pool,
      chain,
      signer,
      log: logger.child({ component: "engine" }),
      isPaused: () => isPaused(pool),
      settings: engineSettingsOf(config),
      readMaxAgeMs: ENGINE_READ_MAX_AGE_MS,
      onPayoutConfirmed: (asset, seconds) =>
        metrics.payoutConfirmSeconds.observe({ asset }, seconds),
      onPolicyRefused: (rule) => metrics.signerPolicyRefusals.inc({ rule }),
      beforeSign:
        energyTopUp &&
        createEnergyTopUp({
          pool,
          chain,
          log: logger.child({ component: "energy-topup" }),
          settings: energyTopUp,
          leaseMs: config.leaseMs,
        }),
    },
    { concurrency: config.workers, pollMs: config.pollMs },
  );
  const access = await setUpAccess(config, {
    pool,
    log: logger,
    clock,
    onReject: (kind) => metrics.rateLimited.inc({ kind }),
  });
  const health = await startCoreHealth({
    pool,
    redis: access.redis,
    signer,
    chain,
    log: logger.child({ component: "health" }),
  });
  const server = await serveCore({
    host: config.host,
    port: config.port,
    tls: loadCoreTls(config),
    log: logger,
    routes: registerRoutes({
      pool,
      chain,
      signer,
      clock,
      rules: { ...payoutRulesOf(config), signerPolicy },
      watchIntervalMs: 500,
      ...webhooks,
      feeLimitSun: engineSettingsOf(config).feeLimitSun,
      payeeCoolingOffMs: config.payeeCoolingOffSec * 1000,
      energyTopUp,
      signerPolicy,
      tokens: { settings: access.tokens, revocations: access.revocations },
      health: health.monitor,
    }),
    interceptors: [
      createObserveInterceptor({ log: logger, metrics }),
      errorInterceptor,
      createAuthInterceptor({
        pool,
        log: logger,
        clock,
        jwt: { verify: access.verify, revocations: access.revocations },
        limits: access.limits,
      }),
      requestCheckInterceptor,
      createBatchBudgetInterceptor(access.limits),
    ],
    contextValues: clientContextValues({
      forwardSecret: config.edgeForwardSecret,
      certPrincipals: parseCertPrincipals(config.mtlsPrincipals),
    }),
  });
  const admin = await serveAdminHttp({
    host: config.adminHost,
    port: config.adminPort,
    metrics,
    // The same checks as the gRPC health service: PostgreSQL, Redis, the signer, the node.
    checks: health.probes,
  });
  const purge = setInterval(() => void purgeIdempotencyKeys(pool).catch(() => {}), 3_600_000);
  purge.unref();
  const reconcile = startReconcileJob({
    pool,
    chain,
    log: logger.child({ component: "reconcile" }),
    intervalMs: config.reconcileIntervalSec * 1000,
    recentMs: 86_400_000,
    batchSize: 500,
  });
  const follower = startFollower({
    pool,
    chain,
    log: logger.child({ component: "follower" }),
    // The engine learns inclusion from the blocks the follower records: it keeps the pace of
    // the engine's own polling.
    pollMs: config.pollMs,
  });
  const webhookWorker = startWebhooks(
    config,
    pool,
    logger.child({ component: "webhooks" }),
    webhooks,
    (endpoint, ok) => metrics.webhookDeliveries.inc({ endpoint, outcome: ok ? "ok" : "error" }),
  );
  const auditJob = startAuditJob({
    pool,
    log: logger.child({ component: "audit" }),
    signer,
    intervalMs: config.auditVerifyIntervalSec * 1000,
    chainIntervalMs: config.auditChainIntervalMs,
    checkpointIntervalMs: config.auditCheckpointIntervalSec * 1000,
    onVerified: (ok, atMs) => {
      metrics.auditChainOk.set(ok ? 1 : 0);
      metrics.auditVerifiedAt.set(atMs / 1000);
    },
  });
  logger.info({ url: server.url, adminUrl: admin.url }, "core ready");
  const stop = async () => {
    clearInterval(purge);
    await auditJob.stop();
    await webhookWorker.stop();
    await reconcile.stop();
    await follower.stop();
    await server.close();
    health.stop();
    await admin.close();
    await engine.stop();
    await access.stop();
    await pool.end();
  };
  return { url: server.url, pool, engine, stop };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const log = createLogger({ name: "core" });
  runCore(process.argv.slice(2), process.env, log)
    .then(({ stop }) => {
      const shutdown = () => void stop().then(() => process.exit(0));
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
    })
    .catch((err) => {
      log.fatal({ err: err instanceof Error ? err.message : String(err) }, "core failed to start");
      process.exit(1);
    });
}
