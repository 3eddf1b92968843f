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
