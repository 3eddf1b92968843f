import type { DatabasePool } from "slonik";
import type { Logger } from "../../shared/log.js";
import { createSocksFetch } from "../../shared/tor-socks.js";
import type { CoreConfig } from "../app/config.js";
import { startWebhookWorker, type WebhookWorker } from "./deliver.js";
import type { WebhookHandlerDeps } from "./handlers.js";
import { createSecretBox } from "./secret-box.js";
import { createSender } from "./sender.js";

/** The webhook parts of core's config, for the handlers. */
export function webhookDepsOf(
  config: CoreConfig,
): Pick<WebhookHandlerDeps, "webhookBox" | "webhookPolicy"> {
  return {
    webhookBox: createSecretBox(config.webhookSecretKey),
    webhookPolicy: { allowLoopback: config.webhookAllowLoopback, torMode: config.torMode },
  };
}

/** Starts the delivery worker; in tor mode it sends only through Tor's SOCKS port. */
export function startWebhooks(
  config: CoreConfig,
  pool: DatabasePool,
  log: Logger,
  deps: Pick<WebhookHandlerDeps, "webhookBox">,
  onAttempt?: (endpointId: string, ok: boolean) => void,
): WebhookWorker {
  const torFetch =
    config.torMode === "required"
      ? createSocksFetch({
          host: config.torSocksHost,
          port: config.torSocksPort,
          timeoutMs: config.webhookTimeoutMs,
        })
      : undefined;
  return startWebhookWorker({
    pool,
    log,
    box: deps.webhookBox,
    onAttempt,
    send: createSender({
      policy: { allowLoopback: config.webhookAllowLoopback },
      timeoutMs: config.webhookTimeoutMs,
      maxBodyBytes: 64 * 1024,
      torFetch,
    }),
    settings: {
      backoffMs: config.webhookBackoffMs,
      backoffMaxMs: config.webhookBackoffMaxMs,
      retryWindowMs: config.webhookRetryWindowSec * 1000,
      leaseMs: config.webhookTimeoutMs * 2 + 5_000,
      pollMs: Math.max(config.pollMs, 100),
      concurrency: 8,
    },
  });
}
