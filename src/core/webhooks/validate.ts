import { WebhookEventType } from "../../gen/tronpay/v1/webhook_pb.js";
import { AppError } from "../../shared/errors.js";
import { eventTypeName } from "./events.js";
import { checkWebhookUrl, isOnion, resolveChecked, type UrlPolicy } from "./url-policy.js";

/** Request checks for webhook endpoints, done before any transaction. */

export interface DestinationPolicy extends UrlPolicy {
  /** In tor mode names are resolved by Tor only: a local DNS query would leak the destination. */
  torMode: "off" | "required";
}

/** Checks a URL's shape and, outside tor mode, every address its host resolves to. */
export async function checkDestination(raw: string, policy: DestinationPolicy): Promise<string> {
  const url = checkWebhookUrl(raw, policy);
  if (policy.torMode === "off" && !isOnion(url.hostname)) {
    await resolveChecked(url.hostname, policy);
  }
  return raw;
}

/** The type strings of subscribed event types; at least one, no UNSPECIFIED or unknown. */
export function eventTypeNames(types: readonly WebhookEventType[], required: boolean): string[] {
  if (types.length === 0 && required) throw invalid("event_types", "at least one event type");
  const names = new Set<string>();
  for (const t of types) {
    const name = t === WebhookEventType.UNSPECIFIED ? undefined : eventTypeName(t);
    if (name === undefined) throw invalid("event_types", `unknown event type ${t}`);
    names.add(name);
  }
  return [...names];
}

/** Checks a description's length (at most 500 characters). */
export function checkDescription(description: string): string {
  if ([...description].length > 500) {
    throw invalid("description", "description must be at most 500 characters");
  }
  return description;
}

/** Checks that a required id is present. */
export function requireId(id: string, field = "id"): string {
  if (id === "") throw invalid(field, `${field} is required`);
  return id;
}

function invalid(field: string, message: string): AppError {
  return new AppError("request.invalid", message, { metadata: { field } });
}
