import { AppError } from "../../shared/errors.js";

/**
 * The states of operations and attempts, and the only transitions allowed between them. Every
 * state change goes through `assertTransition`; the database CHECKs keep out unknown states and
 * `UPDATE … WHERE state = from` keeps concurrent changes out.
 */

export const OPERATION_STATES = [
  "QUEUED",
  "AWAITING_APPROVAL",
  "HELD",
  "SIGNED",
  "BROADCAST",
  "CONFIRMED",
  "FAILED",
  "CANCELLED",
] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

export const OPERATION_TRANSITIONS: Readonly<Record<OperationState, readonly OperationState[]>> = {
  // Waiting for a second principal.
  AWAITING_APPROVAL: ["QUEUED", "CANCELLED"],
  // Ready to be built and signed.
  QUEUED: ["SIGNED", "HELD", "CANCELLED", "FAILED"],
  // Not enough TRX, USDT or energy; rechecked until it is.
  HELD: ["QUEUED", "CANCELLED", "FAILED"],
  // A signed attempt is stored; not yet known to the network. After it provably expired
  // unincluded the operation goes back to QUEUED for a new attempt (or FAILED when exhausted).
  SIGNED: ["BROADCAST", "QUEUED", "FAILED"],
  // Sent (or maybe sent); followed until solidified or provably expired.
  BROADCAST: ["CONFIRMED", "FAILED", "QUEUED"],
  CONFIRMED: [],
  FAILED: [],
  CANCELLED: [],
};

/** States the engine works on. */
export const LIVE_STATES: readonly OperationState[] = ["QUEUED", "HELD", "SIGNED", "BROADCAST"];
/** States a payout ends in. */
export const TERMINAL_STATES: readonly OperationState[] = ["CONFIRMED", "FAILED", "CANCELLED"];
/** States in which no transaction for the operation has been signed yet (cancel is allowed). */
export const UNSIGNED_STATES: readonly OperationState[] = ["QUEUED", "AWAITING_APPROVAL", "HELD"];

export type AttemptState = "SIGNED" | "BROADCAST" | "INCLUDED" | "EXPIRED" | "FAILED";

export const ATTEMPT_TRANSITIONS: Readonly<Record<AttemptState, readonly AttemptState[]>> = {
  SIGNED: ["BROADCAST", "EXPIRED", "INCLUDED", "FAILED"],
  BROADCAST: ["INCLUDED", "EXPIRED", "FAILED"],
  // Included with a successful receipt.
  INCLUDED: [],
  // Provably never includable: the solidified chain passed its expiration without it.
  EXPIRED: [],
  // Included with a failed receipt (REVERT, OUT_OF_ENERGY): fees were burned.
  FAILED: [],
};

/** Throws `payout.invalid_state` unless from → to is in the table. */
export function assertTransition(from: OperationState, to: OperationState): void {
  if (!OPERATION_TRANSITIONS[from].includes(to)) {
    throw new AppError("payout.invalid_state", `cannot go from ${from} to ${to}`, {
      metadata: { state: from },
    });
  }
}

/** Throws unless an attempt may go from → to (a bug if it fires). */
export function assertAttemptTransition(from: AttemptState, to: AttemptState): void {
  if (!ATTEMPT_TRANSITIONS[from].includes(to))
    throw new Error(`attempt cannot go from ${from} to ${to}`);
}
