import { WebhookEventType } from "../../gen/tronpay/v1/webhook_pb.js";

/**
 * The event types an endpoint can subscribe to, as the `type` strings receivers see
 * (webhook.proto names them in the comments on WebhookEventType).
 */
const TYPE_NAMES: ReadonlyMap<WebhookEventType, string> = new Map([
  [WebhookEventType.PAYOUT_CREATED, "payout.created"],
  [WebhookEventType.PAYOUT_AWAITING_APPROVAL, "payout.awaiting_approval"],
  [WebhookEventType.PAYOUT_HELD, "payout.held"],
  [WebhookEventType.PAYOUT_BROADCAST, "payout.broadcast"],
  [WebhookEventType.PAYOUT_CONFIRMED, "payout.confirmed"],
  [WebhookEventType.PAYOUT_FAILED, "payout.failed"],
  [WebhookEventType.PAYOUT_CANCELLED, "payout.cancelled"],
  [WebhookEventType.BATCH_COMPLETED, "batch.completed"],
  [WebhookEventType.OPERATION_CONFIRMED, "operation.confirmed"],
  [WebhookEventType.OPERATION_FAILED, "operation.failed"],
  [WebhookEventType.PAYOUTS_PAUSED, "payouts.paused"],
  [WebhookEventType.PAYOUTS_RESUMED, "payouts.resumed"],
  [WebhookEventType.PAYOUT_APPROVED, "payout.approved"],
  [WebhookEventType.PAYOUT_SIGNED, "payout.signed"],
  [WebhookEventType.BATCH_CREATED, "batch.created"],
  [WebhookEventType.WALLET_LOW_BALANCE, "wallet.low_balance"],
  [WebhookEventType.NODE_UNREACHABLE, "node.unreachable"],
]);

const BY_NAME: ReadonlyMap<string, WebhookEventType> = new Map(
  [...TYPE_NAMES].map(([value, name]) => [name, value]),
);

// Outbox types whose public name differs; every other outbox type is public under its own name
// if it is listed above, and internal (never delivered) otherwise.
const OUTBOX_ALIASES: ReadonlyMap<string, string> = new Map();

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
  const name = OUTBOX_ALIASES.get(outboxType) ?? outboxType;
  return BY_NAME.has(name) ? name : undefined;
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
