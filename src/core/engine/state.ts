import { AppError } from "../../shared/errors.js";

/**
 * The states of operations and attempts, and the only transitions allowed between them. Every
 * state change goes through `assertTransition` (engine/repo.ts `transition`); the database
 * CHECKs keep out unknown states and `UPDATE … WHERE state = from` keeps concurrent changes out.
 * There are two tables: what the engine does on its own, and what an operator's request does
 * (approve, cancel, retry). A move is allowed only by the table of whoever makes it.
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

type Table = Readonly<Record<OperationState, readonly OperationState[]>>;

/** Who moves an operation: the engine (and reconcile, which records chain facts) or an operator. */
export type Mover = "engine" | "operator";

/** The engine's moves. */
export const OPERATION_TRANSITIONS: Table = {
  // Waiting for a second principal: only an operator moves it (OPERATOR_TRANSITIONS).
  AWAITING_APPROVAL: [],
  // Ready to be built and signed.
  QUEUED: ["SIGNED", "HELD", "FAILED"],
  // Not enough TRX, USDT or energy; rechecked until it is.
  HELD: ["QUEUED", "FAILED"],
  // A signed attempt is stored; not yet known to the network. After it provably expired
  // unincluded the operation goes back to QUEUED for a new attempt (or FAILED when exhausted).
  SIGNED: ["BROADCAST", "QUEUED", "FAILED"],
  // Sent (or maybe sent); followed until solidified or provably expired.
  BROADCAST: ["CONFIRMED", "FAILED", "QUEUED"],
  CONFIRMED: [],
  FAILED: [],
  CANCELLED: [],
};

/** The moves an operator's request makes; never one of a signed transaction's states. */
export const OPERATOR_TRANSITIONS: Table = {
  // Approve (four eyes) or cancel.
  AWAITING_APPROVAL: ["QUEUED", "CANCELLED"],
  // Cancel.
  QUEUED: ["CANCELLED"],
  // Retry now, or cancel.
  HELD: ["QUEUED", "CANCELLED"],
  SIGNED: [],
  BROADCAST: [],
  CONFIRMED: [],
  // Retry, only when nothing was ever broadcast (payouts/retry.ts checks that first).
  FAILED: ["QUEUED"],
  CANCELLED: [],
};

const TABLES: Readonly<Record<Mover, Table>> = {
  engine: OPERATION_TRANSITIONS,
  operator: OPERATOR_TRANSITIONS,
};

/** States the engine works on. */
export const LIVE_STATES: readonly OperationState[] = ["QUEUED", "HELD", "SIGNED", "BROADCAST"];
/** States a payout ends in. */
export const TERMINAL_STATES: readonly OperationState[] = ["CONFIRMED", "FAILED", "CANCELLED"];
/** States in which no transaction for the operation has been signed yet (an operator may cancel). */
export const UNSIGNED_STATES: readonly OperationState[] = OPERATION_STATES.filter((s) =>
  OPERATOR_TRANSITIONS[s].includes("CANCELLED"),
);

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

/** Throws `payout.invalid_state` unless from → to is in the table of `by` (the engine's unless told). */
export function assertTransition(
  from: OperationState,
  to: OperationState,
  by: Mover = "engine",
): void {
  if (!TABLES[by][from].includes(to)) {
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
