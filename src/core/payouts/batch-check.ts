import { AppError } from "../../shared/errors.js";
import { checkPayoutFields, type PayoutInput } from "./validate.js";

/** The most items one batch may hold. */
export const MAX_BATCH = 1000;

/** One item's problem in a rejected batch. */
export interface BatchItemError {
  index: number;
  itemReference: string;
  reason: string;
  field: string;
  message: string;
}

/** Raised when a batch has bad items: nothing is stored, every problem is listed. */
export class BatchInvalid extends AppError {
  constructor(readonly items: BatchItemError[]) {
    super("payout.batch_invalid", `${items.length} batch item(s) are invalid`);
  }
}

/** The BatchItemError of item `index` for a thrown AppError; anything else is rethrown. */
export function itemError(index: number, itemReference: string, err: unknown): BatchItemError {
  if (!(err instanceof AppError)) throw err;
  return {
    index,
    itemReference,
    reason: err.reason,
    field: err.metadata.field ?? "",
    message: err.message,
  };
}

/** A batch item in domain terms. */
export interface BatchItemInput {
  reference: string;
  input: PayoutInput;
}

/**
 * Every check of a batch that needs no database: its size, repeated item references and each
 * item's own fields. Run before a transaction is opened, so a batch with one bad item among a
 * thousand costs no database work; throws BatchInvalid listing every bad item.
 */
export function checkBatchItems(items: readonly BatchItemInput[]): void {
  if (items.length === 0) {
    throw new AppError("payout.batch_invalid", `a batch holds 1 to ${MAX_BATCH} items`, {
      metadata: { field: "items" },
    });
  }
  if (items.length > MAX_BATCH) {
    // Every item past the limit is named, so a client can split the batch where it failed.
    throw new BatchInvalid(
      items.slice(MAX_BATCH).map((item, i) => ({
        index: MAX_BATCH + i,
        itemReference: item.reference,
        reason: "payout.batch_invalid",
        field: `items[${MAX_BATCH + i}]`,
        message: `a batch holds at most ${MAX_BATCH} items`,
      })),
    );
  }
  const errors: BatchItemError[] = [];
  const seenRefs = new Map<string, number>();
  for (const [index, item] of items.entries()) {
    const prefix = `items[${index}].`;
    try {
      if (item.reference !== "") {
        const first = seenRefs.get(item.reference);
        if (first !== undefined)
          throw new AppError("payout.batch_invalid", `item_reference repeats item ${first}`, {
            metadata: { field: `${prefix}item_reference` },
          });
        seenRefs.set(item.reference, index);
      }
      checkPayoutFields(item.input, prefix);
    } catch (err) {
      errors.push(itemError(index, item.reference, err));
    }
  }
  if (errors.length > 0) throw new BatchInvalid(errors);
}
