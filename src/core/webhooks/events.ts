import { WebhookEventType } from "../../gen/tronpay/v1/webhook_pb.js";
import { EVENT_TYPES, type EventType, eventSpec } from "../events/catalog.js";

/**
 * The event types an endpoint can subscribe to, as the `type` strings receivers see: the
 * catalog's events with a webhook enum value (webhook.proto names them in its comments).
 */
const TYPE_NAMES: ReadonlyMap<WebhookEventType, EventType> = new Map(
  EVENT_TYPES.flatMap((type) => {
    const webhook = eventSpec(type).webhook;
    return webhook === null ? [] : [[webhook, type] as const];
  }),
);

const BY_NAME: ReadonlyMap<string, WebhookEventType> = new Map(
  [...TYPE_NAMES].map(([value, name]) => [name, value]),
);

/** The delivered type string of an enum value; undefined for UNSPECIFIED or unknown values. */
export function eventTypeName(type: WebhookEventType): string | undefined {
  return TYPE_NAMES.get(type);
}

/** The enum value of a delivered type string (UNSPECIFIED if unknown). */
export function eventTypeOf(name: string): WebhookEventType {
  return BY_NAME.get(name) ?? WebhookEventType.UNSPECIFIED;
}

/** The delivered type of an outbox event, or undefined when receivers never see it. */
export function publicTypeOf(outboxType: string): string | undefined {
  return BY_NAME.has(outboxType) ? outboxType : undefined;
}

/** The JSON body a receiver gets for one event (the same bytes on every attempt). */
export function eventBody(event: {
  eventId: string;
  type: string;
  createdAt: number;
  payload: unknown;
}): string {
  return JSON.stringify({
    id: event.eventId,
    type: event.type,
    timestamp: new Date(event.createdAt).toISOString(),
    data: event.payload,
  });
}
