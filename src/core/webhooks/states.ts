import type { DeliveryStatus } from "./delivery-repo.js";
import type { EndpointOutcome, EndpointState } from "./repo.js";

/**
 * A webhook endpoint's states and the only moves between them. Deliveries move an endpoint on
 * their own (the system's table); an administrator's update enables or disables it (the
 * operator's table). Staying in a state is no move and always allowed.
 */

export const ENDPOINT_STATES = ["ACTIVE", "FAILING", "DISABLED"] as const;

type Table = Readonly<Record<EndpointState, readonly EndpointState[]>>;

/** What delivery outcomes do: a delivery given up marks FAILING, a success ends it, 410 disables. */
export const ENDPOINT_TRANSITIONS: Table = {
  ACTIVE: ["FAILING", "DISABLED"],
  FAILING: ["ACTIVE", "DISABLED"],
  // Only an administrator enables an endpoint again.
  DISABLED: [],
};

/** What UpdateWebhookEndpoint's `enabled` does. */
export const ENDPOINT_OPERATOR_TRANSITIONS: Table = {
  ACTIVE: ["DISABLED"],
  FAILING: ["ACTIVE", "DISABLED"],
  DISABLED: ["ACTIVE"],
};

/** Throws unless an endpoint may go from → to for `by` (a bug if it fires). */
export function assertEndpointTransition(
  from: EndpointState,
  to: EndpointState,
  by: "system" | "operator",
): void {
  const table = by === "operator" ? ENDPOINT_OPERATOR_TRANSITIONS : ENDPOINT_TRANSITIONS;
  if (from !== to && !table[from].includes(to))
    throw new Error(`a webhook endpoint cannot go from ${from} to ${to} (${by})`);
}

/** The state an attempt's outcome leaves an endpoint in, checked against the system's table. */
export function stateAfterOutcome(from: EndpointState, outcome: EndpointOutcome): EndpointState {
  const to =
    outcome === "success" && from === "FAILING"
      ? "ACTIVE"
      : outcome === "gave_up" && from === "ACTIVE"
        ? "FAILING"
        : outcome === "gone"
          ? "DISABLED"
          : from;
  assertEndpointTransition(from, to, "system");
  return to;
}

/**
 * A delivery's statuses: each attempt of a PENDING delivery leaves it PENDING (retried later),
 * DELIVERED or FAILED (given up, or 410); an administrator's redelivery puts any delivery back
 * to PENDING (a delivered one too: the receiver asked for it again).
 */
export const DELIVERY_TRANSITIONS: Readonly<Record<DeliveryStatus, readonly DeliveryStatus[]>> = {
  PENDING: ["DELIVERED", "FAILED"],
  DELIVERED: [],
  FAILED: [],
};
export const DELIVERY_OPERATOR_TRANSITIONS: Readonly<
  Record<DeliveryStatus, readonly DeliveryStatus[]>
> = {
  PENDING: [],
  DELIVERED: ["PENDING"],
  FAILED: ["PENDING"],
};

/** Throws unless a delivery may go from → to for `by`; staying is no move (a bug if it fires). */
export function assertDeliveryTransition(
  from: DeliveryStatus,
  to: DeliveryStatus,
  by: "system" | "operator",
): void {
  const table = by === "operator" ? DELIVERY_OPERATOR_TRANSITIONS : DELIVERY_TRANSITIONS;
  if (from !== to && !table[from].includes(to))
    throw new Error(`a webhook delivery cannot go from ${from} to ${to} (${by})`);
}

/** The statuses an operator's redelivery may move to PENDING (all of them, PENDING staying). */
export function redeliverableStatuses(): DeliveryStatus[] {
  return (Object.keys(DELIVERY_OPERATOR_TRANSITIONS) as DeliveryStatus[]).filter(
    (s) => s === "PENDING" || DELIVERY_OPERATOR_TRANSITIONS[s].includes("PENDING"),
  );
}
