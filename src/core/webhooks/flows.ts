import type { CommonQueryMethods } from "slonik";
import { AppError } from "../../shared/errors.js";
import { appendAudit } from "../kernel/audit.js";
import { newId } from "../kernel/ids.js";
import { emitEvent } from "../kernel/outbox.js";
import { redeliverFailed, redeliverOne } from "./delivery-repo.js";
import {
  deleteEndpoint,
  type EndpointPatch,
  type EndpointRow,
  insertEndpoint,
  lockEndpoint,
  replaceSecret,
  updateEndpoint,
} from "./repo.js";
import type { SecretBox } from "./secret-box.js";
import { formatSecret, newSecret } from "./sign.js";

/**
 * The webhook management writes. Each runs in the caller's transaction (the idempotency
 * record's), checks, persists, and writes an audit row and an outbox event with the change.
 * Validation that needs no database (URL, types, lengths) happens in validate.ts before.
 */

export interface FlowDeps {
  box: SecretBox;
}

const MAX_OVERLAP_MS = 7 * 86_400_000;

/** Creates an endpoint; returns it and its secret (shown once). */
export async function createEndpoint(
  tx: CommonQueryMethods,
  deps: FlowDeps,
  input: { url: string; eventTypes: string[]; description: string; by: string },
): Promise<{ endpoint: EndpointRow; secret: string }> {
  const id = newId("wh");
  const secret = newSecret();
  const endpoint = await insertEndpoint(tx, {
    id,
    url: input.url,
    eventTypes: input.eventTypes,
    description: input.description,
    secretEnc: deps.box.seal(id, secret),
    by: input.by,
  });
  await record(tx, input.by, "webhook_endpoint.created", id, {
    url: input.url,
    eventTypes: input.eventTypes,
  });
  return { endpoint, secret: formatSecret(secret) };
}

/** Applies a patch; enabling an endpoint makes it ACTIVE and clears its failure count. */
export async function changeEndpoint(
  tx: CommonQueryMethods,
  id: string,
  patch: EndpointPatch,
  by: string,
): Promise<EndpointRow> {
  const before = await lockEndpoint(tx, id);
  const after = await updateEndpoint(tx, id, patch);
  await record(tx, by, "webhook_endpoint.updated", id, {
    changed: Object.keys(patch).filter((k) => patch[k as keyof EndpointPatch] !== undefined),
    from: before.state,
    to: after.state,
  });
  return after;
}

/** Deletes an endpoint and its deliveries. */
export async function removeEndpoint(
  tx: CommonQueryMethods,
  id: string,
  by: string,
): Promise<void> {
  await lockEndpoint(tx, id);
  await deleteEndpoint(tx, id);
  await record(tx, by, "webhook_endpoint.deleted", id, {});
}

/**
 * Makes a new secret. The old one keeps signing for `overlapMs` (0 ends it now); an earlier
 * rotation's old secret is dropped, so at most two secrets sign at once.
 */
export async function rotateEndpointSecret(
  tx: CommonQueryMethods,
  deps: FlowDeps,
  input: { id: string; overlapMs: number; now: number; by: string },
): Promise<{ endpoint: EndpointRow; secret: string; previousExpiresAt: number }> {
  if (input.overlapMs < 0 || input.overlapMs > MAX_OVERLAP_MS) {
    throw new AppError("request.invalid", "overlap must be between 0 and 7 days", {
      metadata: { field: "overlap" },
    });
  }
  const current = await lockEndpoint(tx, input.id);
  const secret = newSecret();
  const previousExpiresAt = input.now + input.overlapMs;
  const endpoint = await replaceSecret(tx, input.id, {
    secretEnc: deps.box.seal(input.id, secret),
    previousEnc: input.overlapMs > 0 ? current.secret_enc : null,
    previousExpiresAt: input.overlapMs > 0 ? previousExpiresAt : null,
  });
  await record(tx, input.by, "webhook_endpoint.secret_rotated", input.id, {
    overlapMs: input.overlapMs,
  });
  return { endpoint, secret: formatSecret(secret), previousExpiresAt };
}

/** Schedules one delivery, or every FAILED delivery of an endpoint, to be sent now. */
export async function redeliver(
  tx: CommonQueryMethods,
  target: { deliveryId: string } | { endpointId: string },
  by: string,
): Promise<number> {
  if ("deliveryId" in target) {
    const d = await redeliverOne(tx, target.deliveryId);
    await record(tx, by, "webhook_delivery.redelivered", d.endpoint_id, { deliveryId: d.id });
    return 1;
  }
  await lockEndpoint(tx, target.endpointId);
  const count = await redeliverFailed(tx, target.endpointId);
  await record(tx, by, "webhook_delivery.redelivered", target.endpointId, { count });
  return count;
}

/** The audit row and outbox event of a change, in its transaction. */
async function record(
  tx: CommonQueryMethods,
  actor: string,
  action: string,
  subject: string,
  details: Record<string, unknown>,
): Promise<void> {
  await appendAudit(tx, { actor, action, subject, details });
  await emitEvent(tx, { type: action, subjectId: subject, payload: { id: subject, ...details } });
}
