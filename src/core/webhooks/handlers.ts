import { create } from "@bufbuild/protobuf";
import { durationMs, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import {
  GetWebhookEndpointResponseSchema,
  ListWebhookDeliveriesResponseSchema,
  ListWebhookEndpointsResponseSchema,
  type RedeliverWebhookRequest,
  type WebhookService,
} from "../../gen/tronpay/v1/webhook_pb.js";
import { AppError } from "../../shared/errors.js";
import { principalOf } from "../kernel/context.js";
import { type WriteOptions, writeTx } from "../kernel/idempotent-writes.js";
import { pageSizeOf } from "../kernel/page.js";
import {
  deliveryStatusesOf,
  deliveryToProto,
  endpointStatesOf,
  endpointToProto,
} from "./convert.js";
import { listDeliveries } from "./delivery-repo.js";
import {
  changeEndpoint,
  createEndpoint,
  redeliver,
  removeEndpoint,
  rotateEndpointSecret,
} from "./flows.js";
import { findEndpoint, listEndpoints, notFound } from "./repo.js";
import type { SecretBox } from "./secret-box.js";
import {
  checkDescription,
  checkDestination,
  type DestinationPolicy,
  eventTypeNames,
  requireId,
} from "./validate.js";

export interface WebhookHandlerDeps {
  pool: DatabasePool;
  clock: () => number;
  webhookBox: SecretBox;
  webhookPolicy: DestinationPolicy;
}

/** WebhookService: endpoints, secrets and deliveries. Writes are idempotent and audited. */
export function createWebhookHandlers(
  deps: WebhookHandlerDeps,
): ServiceImpl<typeof WebhookService> {
  const { pool, clock } = deps;
  const flow = { box: deps.webhookBox };
  return {
    async createWebhookEndpoint(req, ctx) {
      const made = await createEndpoint(writeTx(ctx), flow, {
        url: req.url,
        eventTypes: eventTypeNames(req.eventTypes, true),
        description: req.description,
        by: principalOf(ctx).id,
      });
      return { endpoint: endpointToProto(made.endpoint), secret: made.secret };
    },

    async getWebhookEndpoint(req) {
      const row = await findEndpoint(pool, requireId(req.id));
      if (!row) throw notFound();
      return create(GetWebhookEndpointResponseSchema, { endpoint: endpointToProto(row) });
    },

    async listWebhookEndpoints(req) {
      const page = await listEndpoints(pool, {
        states: endpointStatesOf(req.states),
        pageSize: pageSizeOf(req.page?.pageSize),
        pageToken: req.page?.pageToken ?? "",
      });
      return create(ListWebhookEndpointsResponseSchema, {
        endpoints: page.items.map(endpointToProto),
        page: { nextPageToken: page.nextPageToken },
      });
    },

    async updateWebhookEndpoint(req, ctx) {
      const patch = {
        url: req.url,
        eventTypes: req.eventTypes.length > 0 ? eventTypeNames(req.eventTypes, true) : undefined,
        description: req.description,
        state:
          req.enabled === undefined
            ? undefined
            : req.enabled
              ? ("ACTIVE" as const)
              : ("DISABLED" as const),
      };
      const by = principalOf(ctx).id;
      const row = await changeEndpoint(writeTx(ctx), req.id, patch, by);
      return { endpoint: endpointToProto(row) };
    },

    async deleteWebhookEndpoint(req, ctx) {
      await removeEndpoint(writeTx(ctx), req.id, principalOf(ctx).id);
      return {};
    },

    async rotateWebhookSecret(req, ctx) {
      const overlapMs = req.overlap ? durationMs(req.overlap) : 0;
      const by = principalOf(ctx).id;
      const r = await rotateEndpointSecret(writeTx(ctx), flow, {
        id: req.id,
        overlapMs,
        now: clock(),
        by,
      });
      return {
        secret: r.secret,
        previousSecretExpiresAt: timestampFromMs(r.previousExpiresAt),
        endpoint: endpointToProto(r.endpoint),
      };
    },

    async listWebhookDeliveries(req) {
      const page = await listDeliveries(pool, {
        endpointId: req.endpointId,
        statuses: deliveryStatusesOf(req.statuses),
        eventTypes: eventTypeNames(req.eventTypes, false),
        startMs: req.created?.startTime ? timestampMs(req.created.startTime) : undefined,
        endMs: req.created?.endTime ? timestampMs(req.created.endTime) : undefined,
        pageSize: pageSizeOf(req.page?.pageSize),
        pageToken: req.page?.pageToken ?? "",
      });
      return create(ListWebhookDeliveriesResponseSchema, {
        deliveries: page.items.map(deliveryToProto),
        page: { nextPageToken: page.nextPageToken },
      });
    },

    async redeliverWebhook(req, ctx) {
      const target = targetOf(req.target);
      return { scheduledCount: await redeliver(writeTx(ctx), target, principalOf(ctx).id) };
    },
  };
}

/**
 * The hooks of WebhookService's writes: the request checks (a destination's addresses are
 * resolved) come before any transaction, and stored answers carry no secret.
 */
export function webhookWrites(policy: DestinationPolicy): WriteOptions<typeof WebhookService> {
  const withoutSecret = <A extends { secret: string }>(answer: A): A => ({ ...answer, secret: "" });
  return {
    createWebhookEndpoint: {
      async check(req) {
        await checkDestination(req.url, policy);
        eventTypeNames(req.eventTypes, true);
        checkDescription(req.description);
      },
      stored: withoutSecret,
    },
    updateWebhookEndpoint: {
      async check(req) {
        requireId(req.id);
        if (req.url !== undefined) await checkDestination(req.url, policy);
        if (req.eventTypes.length > 0) eventTypeNames(req.eventTypes, true);
        if (req.description !== undefined) checkDescription(req.description);
      },
    },
    deleteWebhookEndpoint: { check: (req) => requireId(req.id) },
    rotateWebhookSecret: { check: (req) => requireId(req.id), stored: withoutSecret },
    redeliverWebhook: { check: (req) => targetOf(req.target) },
  };
}

/** What a redelivery names: one delivery or one endpoint's failed ones. */
function targetOf(
  t: RedeliverWebhookRequest["target"],
): { deliveryId: string } | { endpointId: string } {
  if (t.case === "deliveryId") return { deliveryId: requireId(t.value, "delivery_id") };
  if (t.case === "endpointId") return { endpointId: requireId(t.value, "endpoint_id") };
  throw new AppError("request.invalid", "delivery_id or endpoint_id is required", {
    metadata: { field: "target" },
  });
}
