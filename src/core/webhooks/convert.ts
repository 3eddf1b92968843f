import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type WebhookDelivery,
  WebhookDeliverySchema,
  WebhookDeliveryStatus,
  type WebhookEndpoint,
  WebhookEndpointSchema,
  WebhookEndpointState,
} from "../../gen/tronpay/v1/webhook_pb.js";
import type { DeliveryRow, DeliveryStatus } from "./delivery-repo.js";
import { eventTypeOf } from "./events.js";
import type { EndpointRow, EndpointState } from "./repo.js";

/** Stored rows ↔ proto messages for webhooks. Secrets never leave as part of an endpoint. */

const ENDPOINT_STATES: Record<EndpointState, WebhookEndpointState> = {
  ACTIVE: WebhookEndpointState.ACTIVE,
  DISABLED: WebhookEndpointState.DISABLED,
  FAILING: WebhookEndpointState.FAILING,
};
const DELIVERY_STATUSES: Record<DeliveryStatus, WebhookDeliveryStatus> = {
  PENDING: WebhookDeliveryStatus.PENDING,
  DELIVERED: WebhookDeliveryStatus.DELIVERED,
  FAILED: WebhookDeliveryStatus.FAILED,
};

/** The proto endpoint of a row. */
export function endpointToProto(row: EndpointRow): WebhookEndpoint {
  return create(WebhookEndpointSchema, {
    id: row.id,
    url: row.url,
    eventTypes: row.event_types.map(eventTypeOf),
    description: row.description,
    state: ENDPOINT_STATES[row.state],
    consecutiveFailures: row.consecutive_failures,
    lastSuccessAt: row.last_success_at === null ? undefined : timestampFromMs(row.last_success_at),
    secretCreatedAt: timestampFromMs(row.secret_created_at),
    createdAt: timestampFromMs(row.created_at),
    updatedAt: timestampFromMs(row.updated_at),
  });
}

/** The proto delivery of a row. */
export function deliveryToProto(row: DeliveryRow): WebhookDelivery {
  return create(WebhookDeliverySchema, {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: eventTypeOf(row.event_type),
    status: DELIVERY_STATUSES[row.status],
    attemptCount: row.attempt_count,
    lastResponseCode: row.last_response_code,
    lastError: row.last_error,
    lastAttemptAt: row.last_attempt_at === null ? undefined : timestampFromMs(row.last_attempt_at),
    nextAttemptAt: row.status === "PENDING" ? timestampFromMs(row.next_attempt_at) : undefined,
    createdAt: timestampFromMs(row.created_at),
  });
}

/** Domain endpoint states of proto ones; UNSPECIFIED and unknown values are dropped. */
export function endpointStatesOf(states: readonly WebhookEndpointState[]): EndpointState[] {
  return (Object.keys(ENDPOINT_STATES) as EndpointState[]).filter((s) =>
    states.includes(ENDPOINT_STATES[s]),
  );
}

/** Domain delivery statuses of proto ones; UNSPECIFIED and unknown values are dropped. */
export function deliveryStatusesOf(statuses: readonly WebhookDeliveryStatus[]): DeliveryStatus[] {
  return (Object.keys(DELIVERY_STATUSES) as DeliveryStatus[]).filter((s) =>
    statuses.includes(DELIVERY_STATUSES[s]),
  );
}
