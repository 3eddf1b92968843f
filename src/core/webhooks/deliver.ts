import type { DatabasePool } from "slonik";
import type { Logger } from "../../shared/log.js";
import { appendAudit } from "../kernel/audit.js";
import { emitEvent } from "../kernel/outbox.js";
import { type ClaimedDelivery, claimDueDeliveries, recordAttempt } from "./delivery-repo.js";
import { dispatchOutbox } from "./dispatch.js";
import { eventBody } from "./events.js";
import { applyOutcome, type EndpointOutcome } from "./repo.js";
import type { SecretBox } from "./secret-box.js";
import { type Sender, SendFailed } from "./sender.js";
import { webhookHeaders } from "./sign.js";

/**
 * The delivery worker: moves new outbox events into delivery rows, claims due deliveries
 * (FOR UPDATE SKIP LOCKED, with a lease, so replicas share the work and a crashed process's
 * claims come back), sends them, and stores each outcome. At least once: a delivery is marked
 * DELIVERED only after a 2xx, so a crash between the answer and the commit sends it again
 * with the same webhook-id.
 */

export interface WebhookSettings {
  /** First retry delay; doubles per attempt up to backoffMaxMs, with ±25 % jitter. */
  backoffMs: number;
  backoffMaxMs: number;
  /** Retries stop this long after the first attempt (or a redelivery). */
  retryWindowMs: number;
  /** A claim's lease; longer than a send's timeout. */
  leaseMs: number;
  pollMs: number;
  concurrency: number;
}

export interface WebhookWorkerDeps {
  pool: DatabasePool;
  log: Logger;
  box: SecretBox;
  send: Sender;
  settings: WebhookSettings;
  /** Jitter source in [0, 1); replaceable in tests. */
  random?: () => number;
  /** Told the outcome of every attempt: a 2xx answer or not (metrics). */
  onAttempt?: (endpointId: string, ok: boolean) => void;
}

/** The delay before retry number `attempt` (1-based), with jitter. */
export function backoffMs(s: WebhookSettings, attempt: number, random = Math.random): number {
  const base = Math.min(s.backoffMaxMs, s.backoffMs * 2 ** Math.min(attempt - 1, 40));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** Sends one claimed delivery and stores the outcome. */
export async function attemptDelivery(deps: WebhookWorkerDeps, d: ClaimedDelivery): Promise<void> {
  const body = eventBody({
    eventId: d.event_id,
    type: d.event_type,
    createdAt: d.event_created_at,
    payload: d.payload,
  });
  const secrets = [deps.box.open(d.endpoint_id, d.secret_enc)];
  if (d.previous_secret_enc && (d.previous_secret_expires_at ?? 0) > d.now) {
    secrets.push(deps.box.open(d.endpoint_id, d.previous_secret_enc));
  }
  const headers = webhookHeaders(secrets, d.event_id, Math.floor(Date.now() / 1000), body);
  let status = 0;
  let error = "";
  try {
    status = (await deps.send(d.url, headers, body)).status;
  } catch (err) {
    if (!(err instanceof SendFailed)) throw err;
    error = err.kind;
    deps.log.warn({ deliveryId: d.id, error, cause: String(err.cause) }, "webhook send failed");
  }
  deps.onAttempt?.(d.endpoint_id, status >= 200 && status < 300);
  await recordOutcome(deps, d, status, error);
}

async function recordOutcome(
  deps: WebhookWorkerDeps,
  d: ClaimedDelivery,
  status: number,
  error: string,
): Promise<void> {
  const ok = status >= 200 && status < 300;
  const gone = status === 410;
  const expired = d.now - d.retry_from >= deps.settings.retryWindowMs;
  const outcome: EndpointOutcome = ok ? "success" : gone ? "gone" : expired ? "gave_up" : "failure";
  await deps.pool.transaction(async (tx) => {
    const stored = await recordAttempt(tx, d.id, {
      status: ok ? "DELIVERED" : gone || expired ? "FAILED" : "PENDING",
      responseCode: status,
      error,
      retryInMs: backoffMs(deps.settings, d.attempt_count + 1, deps.random),
    });
    if (!stored) return; // redelivered, or its endpoint deleted, meanwhile
    const change = await applyOutcome(tx, d.endpoint_id, outcome);
    if (change && change.from !== change.to) {
      const action = `webhook_endpoint.${change.to.toLowerCase()}`;
      const details = { from: change.from, to: change.to, deliveryId: d.id, status, error };
      await appendAudit(tx, { actor: "system:webhooks", action, subject: d.endpoint_id, details });
      await emitEvent(tx, { type: action, subjectId: d.endpoint_id, payload: details });
      deps.log.warn({ endpointId: d.endpoint_id, ...details }, "webhook endpoint state changed");
    }
  });
}

/** A running worker. */
export interface WebhookWorker {
  /** One dispatch-and-claim round now; returns how many deliveries it started. */
  tick(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the dispatch-and-deliver loop. */
export function startWebhookWorker(deps: WebhookWorkerDeps): WebhookWorker {
  const inflight = new Set<Promise<void>>();
  let stopped = false;
  const tick = async (): Promise<number> => {
    await dispatchOutbox(deps.pool);
    const claimed = await claimDueDeliveries(
      deps.pool,
      deps.settings.concurrency - inflight.size,
      deps.settings.leaseMs,
    );
    for (const d of claimed) {
      const p = attemptDelivery(deps, d)
        .catch((err) => {
          // Its lease runs out and another round tries again.
          deps.log.error({ deliveryId: d.id, err: String(err) }, "webhook attempt failed");
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    return claimed.length;
  };
  const loop = async () => {
    while (!stopped) {
      const started = await tick().catch((err) => {
        deps.log.error({ err: String(err) }, "webhook round failed");
        return 0;
      });
      if (started === 0 && !stopped) await sleep(deps.settings.pollMs);
    }
  };
  const running = loop();
  return {
    tick,
    async stop() {
      stopped = true;
      await running;
      await Promise.allSettled(inflight);
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
