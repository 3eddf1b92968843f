import { z } from "zod";
import { WebhookEventType as W } from "../../gen/tronpay/v1/webhook_pb.js";
import type { OperationState } from "../engine/state.js";
import { isoTime, StateChange, text } from "./fields.js";
import * as P from "./payloads.js";

/**
 * The one table of outbox events: type → public webhook enum value (null: internal, never
 * delivered) → payload schema → subject (the outbox row's subject_id). emitEvent accepts only
 * these types with their payloads; docs/events.md is generated from here; a flow test checks
 * that every subscribable type is emitted (test/core/events.test.ts). Amounts are decimal
 * strings in whole units, as in the API (src/shared/money.ts).
 */

interface EventSpec<S extends z.ZodTypeAny> {
  webhook: W | null;
  doc: string;
  payload: S;
  subject: (payload: z.input<S>) => string;
}

const spec = <S extends z.ZodTypeAny>(s: EventSpec<S>) => s;
const byId = (p: { id: string }) => p.id;

const state = (webhook: W | null, doc: string) =>
  spec({ webhook, doc, payload: StateChange, subject: byId });

const endpointChange = (doc: string) =>
  spec({ webhook: null, doc, payload: P.EndpointChange, subject: byId });

export const EVENTS = {
  "payout.created": spec({
    webhook: W.PAYOUT_CREATED,
    doc: "A payout was accepted (alone or in a batch).",
    payload: P.PayoutCreated,
    subject: byId,
  }),
  "payout.awaiting_approval": state(
    W.PAYOUT_AWAITING_APPROVAL,
    "A payout above the four-eyes threshold waits for a second principal (from is null: it was created so).",
  ),
  "payout.queued": state(
    null,
    "A payout is ready to be signed (approved, no longer held, retried).",
  ),
  "payout.held": state(
    W.PAYOUT_HELD,
    "A payout waits for TRX, USDT or energy (reason says which).",
  ),
  "payout.signed": state(
    W.PAYOUT_SIGNED,
    "The signed transaction is stored; it is about to be broadcast.",
  ),
  "payout.broadcast": state(W.PAYOUT_BROADCAST, "The transaction was sent to the network."),
  "payout.confirmed": state(W.PAYOUT_CONFIRMED, "The transaction succeeded in a solidified block."),
  "payout.failed": state(
    W.PAYOUT_FAILED,
    "The payout ended without paying (reason in the payout's failure).",
  ),
  "payout.cancelled": state(W.PAYOUT_CANCELLED, "The payout was cancelled before it was signed."),
  "payout.approved": spec({
    webhook: W.PAYOUT_APPROVED,
    doc: "A second principal approved a payout above the four-eyes threshold.",
    payload: z.object({ id: text("The payout id."), approvedBy: text("The approver.") }).strict(),
    subject: byId,
  }),
  "batch.created": spec({
    webhook: W.BATCH_CREATED,
    doc: "A batch was accepted (all its payouts are QUEUED or AWAITING_APPROVAL).",
    payload: z
      .object({ id: text("The batch id."), items: z.number().int().describe("Its payouts.") })
      .strict(),
    subject: byId,
  }),
  "batch.completed": spec({
    webhook: W.BATCH_COMPLETED,
    doc: "Every payout of a batch reached a terminal state.",
    payload: P.BatchCompleted,
    subject: byId,
  }),
  "operation.created": spec({
    webhook: null,
    doc: "A non-payout operation (approve, stake, unstake, …) was accepted.",
    payload: P.OperationCreated,
    subject: byId,
  }),
  "operation.queued": state(null, "A non-payout operation is ready to be signed."),
  "operation.held": state(null, "A non-payout operation waits for TRX or energy."),
  "operation.signed": state(null, "A non-payout operation's signed transaction is stored."),
  "operation.broadcast": state(null, "A non-payout operation's transaction was sent."),
  "operation.confirmed": state(W.OPERATION_CONFIRMED, "A non-payout operation was confirmed."),
  "operation.failed": state(W.OPERATION_FAILED, "A non-payout operation failed."),
  "operation.cancelled": state(null, "A non-payout operation was cancelled before it was signed."),
  "payouts.paused": spec({
    webhook: W.PAYOUTS_PAUSED,
    doc: "An administrator paused payouts: nothing new is signed until they are resumed.",
    payload: z.object({ pausedBy: text("Who paused."), reason: text("Why.") }).strict(),
    subject: () => "payouts",
  }),
  "payouts.resumed": spec({
    webhook: W.PAYOUTS_RESUMED,
    doc: "An administrator resumed payouts.",
    payload: z
      .object({
        resumedBy: text("Who resumed."),
        pausedBy: text("Who had paused."),
        reason: text("The pause's reason."),
      })
      .strict(),
    subject: () => "payouts",
  }),
  "wallet.low_balance": spec({
    webhook: W.WALLET_LOW_BALANCE,
    doc: "A wallet lacks the TRX, USDT or energy for an operation, which is HELD (once per hold).",
    payload: z
      .object({
        walletId: text("The wallet."),
        address: text("Its address."),
        reason: text("What is short (a hold reason)."),
        heldOperation: text("The payout or operation now HELD."),
      })
      .strict(),
    subject: (p) => p.walletId,
  }),
  "node.unreachable": spec({
    webhook: W.NODE_UNREACHABLE,
    doc: "The TRON node could not be reached; work waits and resumes by itself (at most once a minute per core).",
    payload: z
      .object({ reason: text("The error reason (node.unavailable)."), at: isoTime("When.") })
      .strict(),
    subject: () => "node",
  }),
  "transfer.detected": spec({
    webhook: null,
    doc: "The follower recorded a TRX or USDT transfer touching one of our wallets.",
    payload: P.TransferDetected,
    subject: (p) => p.txId,
  }),
  "energy.topup_delegated": spec({
    webhook: null,
    doc: "The energy top-up policy delegated energy to a batch's payout wallet.",
    payload: P.TopUp,
    subject: (p) => p.batchId,
  }),
  "energy.topup_skipped": spec({
    webhook: null,
    doc: "The energy top-up policy decided not to delegate for a batch (outcome says why).",
    payload: P.TopUp,
    subject: (p) => p.batchId,
  }),
  "reconcile.discrepancy": spec({
    webhook: null,
    doc: "Reconciling a payout against the chain found what the database had wrong.",
    payload: P.ReconcileDiscrepancy,
    subject: byId,
  }),
  "webhook_endpoint.created": spec({
    webhook: null,
    doc: "A webhook endpoint was created.",
    payload: z
      .object({
        id: text("The endpoint id."),
        url: text("Its URL."),
        eventTypes: z.array(z.string()).describe("The subscribed types."),
      })
      .strict(),
    subject: byId,
  }),
  "webhook_endpoint.updated": spec({
    webhook: null,
    doc: "A webhook endpoint was changed.",
    payload: z
      .object({
        id: text("The endpoint id."),
        changed: z.array(z.string()).describe("The fields set."),
        from: text("Its state before."),
        to: text("Its state now."),
      })
      .strict(),
    subject: byId,
  }),
  "webhook_endpoint.deleted": spec({
    webhook: null,
    doc: "A webhook endpoint was deleted with its deliveries.",
    payload: z.object({ id: text("The endpoint id.") }).strict(),
    subject: byId,
  }),
  "webhook_endpoint.secret_rotated": spec({
    webhook: null,
    doc: "A webhook endpoint's signing secret was replaced.",
    payload: z
      .object({
        id: text("The endpoint id."),
        overlapMs: z.number().int().describe("How long the previous secret still signs (ms)."),
      })
      .strict(),
    subject: byId,
  }),
  "webhook_endpoint.active": endpointChange("A FAILING endpoint answered again."),
  "webhook_endpoint.failing": endpointChange("An endpoint's delivery was given up; it is FAILING."),
  "webhook_endpoint.disabled": endpointChange("An endpoint answered 410 Gone; it is DISABLED."),
  "webhook_delivery.redelivered": spec({
    webhook: null,
    doc: "One delivery, or every FAILED delivery of an endpoint, was scheduled again.",
    payload: z
      .object({
        id: text("The endpoint id."),
        deliveryId: text("The delivery, when one was named.").optional(),
        count: z.number().int().describe("How many, when all FAILED ones were.").optional(),
      })
      .strict(),
    subject: byId,
  }),
  "payee.created": spec({
    webhook: null,
    doc: "A payee was created.",
    payload: P.Payee({
      address: P.address,
      allowlisted: z.boolean().describe("Whether DIRECT payouts may use it."),
      kyc_status: text("Its KYC status."),
    }),
    subject: (p) => p.tag,
  }),
  "payee.updated": spec({
    webhook: null,
    doc: "A payee was changed.",
    payload: P.Payee({
      changed: z.record(z.tuple([z.unknown(), z.unknown()])).describe("field → [before, after]."),
      cooling_off_restarted: z.boolean().describe("Whether the change restarted the cooling-off."),
    }),
    subject: (p) => p.tag,
  }),
  "payee.deleted": spec({
    webhook: null,
    doc: "A payee was deleted (soft).",
    payload: P.Payee({ address: P.address }),
    subject: (p) => p.tag,
  }),
  // H2 (kinds registry): events of a new operation kind go here, next to their kind's family.
};

export type EventType = keyof typeof EVENTS;
export type PayloadOf<T extends EventType> = z.input<(typeof EVENTS)[T]["payload"]>;

/** The types whose payload is a state change (payout.<state>, operation.<state>). */
export type StateEventType = {
  [K in EventType]: (typeof EVENTS)[K]["payload"] extends typeof StateChange ? K : never;
}[EventType];

/** The spec of a type, with its payload erased (for code that handles every type alike). */
export function eventSpec(type: EventType): EventSpec<z.ZodTypeAny> {
  return EVENTS[type] as unknown as EventSpec<z.ZodTypeAny>;
}

export const EVENT_TYPES = Object.keys(EVENTS) as EventType[];

const PAYOUT_STATE_EVENTS: Readonly<Record<OperationState, StateEventType>> = {
  QUEUED: "payout.queued",
  AWAITING_APPROVAL: "payout.awaiting_approval",
  HELD: "payout.held",
  SIGNED: "payout.signed",
  BROADCAST: "payout.broadcast",
  CONFIRMED: "payout.confirmed",
  FAILED: "payout.failed",
  CANCELLED: "payout.cancelled",
};

// Operations are never created awaiting approval, and no transition leads there.
const OPERATION_STATE_EVENTS: Readonly<
  Record<Exclude<OperationState, "AWAITING_APPROVAL">, StateEventType>
> = {
  QUEUED: "operation.queued",
  HELD: "operation.held",
  SIGNED: "operation.signed",
  BROADCAST: "operation.broadcast",
  CONFIRMED: "operation.confirmed",
  FAILED: "operation.failed",
  CANCELLED: "operation.cancelled",
};

/** The event of a payout or operation entering `to`. */
export function stateEventType(family: "payout" | "operation", to: OperationState): StateEventType {
  if (family === "payout") return PAYOUT_STATE_EVENTS[to];
  if (to === "AWAITING_APPROVAL") throw new Error("an operation cannot await approval");
  return OPERATION_STATE_EVENTS[to];
}
