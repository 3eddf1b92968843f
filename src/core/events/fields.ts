import { z } from "zod";
import { OPERATION_STATES } from "../engine/state.js";

/**
 * Field builders for event payload schemas. Each carries its description (docs/events.md) and,
 * where the JSON type alone would mislead (a decimal amount is a string), a label the docs show.
 */

const LABELS = new WeakMap<z.ZodTypeAny, string>();

function labelled<T extends z.ZodTypeAny>(schema: T, label: string): T {
  LABELS.set(schema, label);
  return schema;
}

/** The label a field's type shows in the docs, if it has one. */
export function labelOf(schema: z.ZodTypeAny): string | undefined {
  return LABELS.get(schema);
}

/** An amount as the API writes it: a decimal string in whole TRX or USDT ("12.5"). */
export const decimal = (doc: string) =>
  labelled(
    z
      .string()
      .regex(/^(0|[1-9][0-9]*)(\.[0-9]{1,6})?$/)
      .describe(doc),
    "decimal string",
  );

/** An integer too large for a JSON number (block numbers, energy), as a string. */
export const intString = (doc: string) =>
  labelled(
    z
      .string()
      .regex(/^(0|[1-9][0-9]*)$/)
      .describe(doc),
    "integer string",
  );

/** A point in time as ISO 8601 (UTC). */
export const isoTime = (doc: string) =>
  labelled(z.string().datetime().describe(doc), "ISO 8601 time");

export const text = (doc: string) => z.string().describe(doc);

const state = z.enum(OPERATION_STATES);

/**
 * Every payout.<state> and operation.<state> event: the change, and what the change knew.
 * Only the fields that apply are present.
 */
export const StateChange = z
  .object({
    id: text("The payout or operation id."),
    kind: text("The operation kind (PAYOUT, USDT_TRANSFER, USDT_APPROVE, STAKE, …)."),
    from: state.nullable().describe("The state before; null when it was created in this state."),
    to: state.describe("The state now."),
    reason: text(
      "Why: the hold reason (HELD), the cancel reason (CANCELLED), signer.policy_denied (FAILED).",
    ).optional(),
    rule: text(
      "The signer policy rule that refused it (FAILED with signer.policy_denied).",
    ).optional(),
    txId: text("The transaction id of the attempt concerned.").optional(),
    blockNumber: intString(
      "The block that included the transaction (CONFIRMED, FAILED).",
    ).optional(),
    trxBurned: decimal(
      "TRX burned for fees, when the receipt is known (CONFIRMED, FAILED).",
    ).optional(),
    expired: z.boolean().describe("An attempt expired unincluded.").optional(),
    reconciled: z
      .boolean()
      .describe("Found by reconciliation rather than by the engine.")
      .optional(),
    approvedBy: text("The principal that approved it (AWAITING_APPROVAL → QUEUED).").optional(),
    comment: text("The approver's comment.").optional(),
    retry: z.boolean().describe("A FAILED payout queued again by RetryPayout.").optional(),
    previousFailure: z
      .string()
      .nullable()
      .describe("The failure reason before the retry.")
      .optional(),
  })
  .strict();
export type StateChange = z.input<typeof StateChange>;
