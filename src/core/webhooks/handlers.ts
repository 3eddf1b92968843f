import { create, type DescMethod } from "@bufbuild/protobuf";
import { durationMs, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import {
  CreateWebhookEndpointRequestSchema,
  CreateWebhookEndpointResponseSchema,
  DeleteWebhookEndpointRequestSchema,
  DeleteWebhookEndpointResponseSchema,
  GetWebhookEndpointResponseSchema,
  ListWebhookDeliveriesResponseSchema,
  ListWebhookEndpointsResponseSchema,
  type RedeliverWebhookRequest,
  RedeliverWebhookRequestSchema,
  RedeliverWebhookResponseSchema,
  RotateWebhookSecretRequestSchema,
  RotateWebhookSecretResponseSchema,
  UpdateWebhookEndpointRequestSchema,
  UpdateWebhookEndpointResponseSchema,
  WebhookService,
} from "../../gen/tronpay/v1/webhook_pb.js";
import { AppError } from "../../shared/errors.js";
import { principalOf } from "../kernel/context.js";
import { idempotent } from "../kernel/idempotency.js";
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
import { pageSizeOf } from "./page.js";
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

const methods = WebhookService.method;

/** WebhookService: endpoints, secrets and deliveries. Writes are idempotent and audited. */
export function createWebhookHandlers(
  deps: WebhookHandlerDeps,
): ServiceImpl<typeof WebhookService> {
  const { pool, clock } = deps;
  const flow = { box: deps.webhookBox };
  const call = (ctx: Parameters<typeof principalOf>[0], m: DescMethod) => ({
    principal: principalOf(ctx).id,
    method: `${m.parent.typeName}/${m.name}`,
  });
  return {
    async createWebhookEndpoint(req, ctx) {
      const by = principalOf(ctx).id;
      const url = await checkDestination(req.url, deps.webhookPolicy);
      const eventTypes = eventTypeNames(req.eventTypes, true);
      const description = checkDescription(req.description);
      // The secret lives only in this closure: the stored (and replayed) answer has secret "".
      let secret = "";
      const answer = await idempotent(
        pool,
        {
          ...call(ctx, methods.createWebhookEndpoint),
          requestSchema: CreateWebhookEndpointRequestSchema,
          request: req,
          responseSchema: CreateWebhookEndpointResponseSchema,
        },
        async (tx) => {
          const made = await createEndpoint(tx, flow, { url, eventTypes, description, by });
          secret = made.secret;
          return { endpoint: endpointToProto(made.endpoint), secret: "" };
        },
      );
      return create(CreateWebhookEndpointResponseSchema, { endpoint: answer.endpoint, secret });
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
      const by = principalOf(ctx).id;
      const id = requireId(req.id);
      const patch = {
        url:
          req.url === undefined ? undefined : await checkDestination(req.url, deps.webhookPolicy),
        eventTypes: req.eventTypes.length > 0 ? eventTypeNames(req.eventTypes, true) : undefined,
        description: req.description === undefined ? undefined : checkDescription(req.description),
        state:
          req.enabled === undefined
            ? undefined
            : req.enabled
              ? ("ACTIVE" as const)
              : ("DISABLED" as const),
      };
      return idempotent(
        pool,
        {
          ...call(ctx, methods.updateWebhookEndpoint),
          requestSchema: UpdateWebhookEndpointRequestSchema,
          request: req,
          responseSchema: UpdateWebhookEndpointResponseSchema,
        },
        async (tx) => ({ endpoint: endpointToProto(await changeEndpoint(tx, id, patch, by)) }),
      );
    },

    async deleteWebhookEndpoint(req, ctx) {
      const by = principalOf(ctx).id;
      const id = requireId(req.id);
      return idempotent(
        pool,
        {
          ...call(ctx, methods.deleteWebhookEndpoint),
          requestSchema: DeleteWebhookEndpointRequestSchema,
          request: req,
          responseSchema: DeleteWebhookEndpointResponseSchema,
        },
        async (tx) => {
          await removeEndpoint(tx, id, by);
          return {};
        },
      );
    },

    async rotateWebhookSecret(req, ctx) {
      const by = principalOf(ctx).id;
      const id = requireId(req.id);
      const overlapMs = req.overlap ? durationMs(req.overlap) : 0;
      let secret = "";
      const answer = await idempotent(
        pool,
        {
          ...call(ctx, methods.rotateWebhookSecret),
          requestSchema: RotateWebhookSecretRequestSchema,
          request: req,
          responseSchema: RotateWebhookSecretResponseSchema,
        },
        async (tx) => {
          const r = await rotateEndpointSecret(tx, flow, { id, overlapMs, now: clock(), by });
          secret = r.secret;
          return {
            secret: "",
            previousSecretExpiresAt: timestampFromMs(r.previousExpiresAt),
            endpoint: endpointToProto(r.endpoint),
          };
        },
      );
      return create(RotateWebhookSecretResponseSchema, { ...answer, secret });
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
      const by = principalOf(ctx).id;
      const target = targetOf(req.target);
      return idempotent(
        pool,
        {
          ...call(ctx, methods.redeliverWebhook),
          requestSchema: RedeliverWebhookRequestSchema,
          request: req,
          responseSchema: RedeliverWebhookResponseSchema,
        },
        async (tx) => ({ scheduledCount: await redeliver(tx, target, by) }),
      );
    },
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
