import type { CommonQueryMethods, DatabaseTransactionConnection } from "slonik";
import { sql } from "slonik";
import { AppError } from "../../shared/errors.js";
import { isPaused } from "../admin/pause.js";
import { ownerOf } from "../auth/keys.js";
import { transition } from "../engine/repo.js";
import { type OperationState, UNSIGNED_STATES } from "../engine/state.js";
import { appendAudit } from "../kernel/audit.js";
import { newId } from "../kernel/ids.js";
import { emitEvent } from "../kernel/outbox.js";
import type { PayoutKind } from "../operations/kinds.js";
import { BatchInvalid, type BatchItemError, checkBatchItems, itemError } from "./batch-check.js";
import { insertBatch } from "./batch-repo.js";
import { type ComplianceApproval, consumeCompliance } from "./compliance.js";
import { checkDailyLimit } from "./limits.js";
import { findPayout, insertPayout, lockPayout, type PayoutRow } from "./repo.js";
import {
  type PayoutInput,
  type PayoutRules,
  type ValidPayout,
  validatePayout,
} from "./validate.js";

/** Who asks, and when. */
export interface Caller {
  principal: string;
  now: number;
}

/**
 * Creates one payout: validate, then store payout, audit row and event together (inside the
 * caller's idempotent transaction), whose commit fails with payout.limit_exceeded beyond the
 * route's daily limit (checkDailyLimit at commit, limits.ts). `kind` is
 * USDT_TRANSFER for UsdtService.Transfer, which is a payout in all but name.
 */
export async function createPayout(
  tx: DatabaseTransactionConnection,
  rules: PayoutRules,
  caller: Caller,
  idempotencyKey: string,
  input: PayoutInput,
  kind: PayoutKind = "PAYOUT",
): Promise<PayoutRow> {
  await refuseWhilePaused(tx);
  const valid = await validatePayout(tx, rules, input, caller.now);
  const row = await insertPayout(
    tx,
    {
      ...valid,
      id: newId("po"),
      kind,
      principal: caller.principal,
      idempotencyKey,
      batchId: null,
      batchIndex: null,
      batchItemReference: "",
    },
    checkDailyLimit(tx, rules, [valid], "", "commit"),
  );
  if (valid.compliance) await consumeCompliance(tx, valid.compliance, row.id);
  return row;
}

/** While an administrator has paused payouts nothing new is accepted (and nothing is signed). */
async function refuseWhilePaused(tx: CommonQueryMethods): Promise<void> {
  if (await isPaused(tx))
    throw new AppError("payout.paused", "payouts are paused by an administrator");
}

export { BatchInvalid, type BatchItemError } from "./batch-check.js";

/**
 * Creates a batch atomically: every item is validated first (all problems collected), then the
 * batch and all its payouts are stored in one transaction, or nothing is.
 */
export async function createBatch(
  tx: DatabaseTransactionConnection,
  rules: PayoutRules,
  caller: Caller,
  idempotencyKey: string,
  items: { reference: string; input: PayoutInput }[],
): Promise<{ batchId: string; payoutIds: string[] }> {
  checkBatchItems(items);
  await refuseWhilePaused(tx);
  const errors: BatchItemError[] = [];
  const valid: ValidPayout[] = [];
  for (const [index, item] of items.entries()) {
    try {
      valid.push(await validatePayout(tx, rules, item.input, caller.now, `items[${index}].`));
    } catch (err) {
      errors.push(itemError(index, item.reference, err));
    }
  }
  if (errors.length > 0) throw new BatchInvalid(errors);
  const duplicates = findDuplicateItems(valid);
  if (duplicates.length > 0)
    throw new BatchInvalid(
      duplicates.map((d) => ({ ...d, itemReference: items[d.index]?.reference ?? "" })),
    );
  await checkDailyLimit(tx, rules, valid, "items");
  const batchId = newId("pb");
  await insertBatch(tx, {
    id: batchId,
    principal: caller.principal,
    idempotencyKey,
    itemCount: items.length,
  });
  const payoutIds: string[] = [];
  for (const [index, v] of valid.entries()) {
    const id = newId("po");
    payoutIds.push(id);
    await insertPayout(tx, {
      ...v,
      id,
      kind: "PAYOUT",
      principal: caller.principal,
      idempotencyKey: null,
      batchId,
      batchIndex: index,
      batchItemReference: items[index]?.reference ?? "",
    });
    if (v.compliance) await consumeInBatch(tx, v.compliance, id, index, items);
  }
  const details = { items: items.length };
  await appendAudit(tx, {
    actor: caller.principal,
    action: "batch.created",
    subject: batchId,
    details,
  });
  await emitEvent(tx, "batch.created", { id: batchId, ...details });
  return { batchId, payoutIds };
}

/** consumeCompliance for a batch item: a reuse is that item's error (and nothing is stored). */
async function consumeInBatch(
  tx: CommonQueryMethods,
  approval: ComplianceApproval,
  payoutId: string,
  index: number,
  items: { reference: string }[],
): Promise<void> {
  const prefix = `items[${index}].`;
  try {
    await consumeCompliance(tx, approval, payoutId, prefix);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    throw new BatchInvalid([
      {
        index,
        itemReference: items[index]?.reference ?? "",
        reason: err.reason,
        field: err.metadata.field ?? "",
        message: err.message,
      },
    ]);
  }
}

/** Two items paying the same amount of the same asset to the same recipient from one wallet. */
function findDuplicateItems(valid: ValidPayout[]): Omit<BatchItemError, "itemReference">[] {
  const seen = new Map<string, number>();
  const out: Omit<BatchItemError, "itemReference">[] = [];
  for (const [index, v] of valid.entries()) {
    const key = [v.walletId, v.recipientAddress, v.asset, v.amount.toString(), v.memo].join("|");
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else
      out.push({
        index,
        reason: "payout.batch_invalid",
        field: `items[${index}]`,
        message: `duplicates item ${first}`,
      });
  }
  return out;
}

/** Cancels a payout that has not been signed yet. */
export async function cancelPayout(
  tx: DatabaseTransactionConnection,
  caller: Caller,
  id: string,
  reason: string,
): Promise<PayoutRow> {
  const payout = await lockPayout(tx, id);
  const state = payout.state as OperationState;
  if (!UNSIGNED_STATES.includes(state)) {
    throw new AppError("payout.invalid_state", `a ${state} payout can no longer be cancelled`, {
      metadata: { state },
    });
  }
  await tx.query(
    sql.unsafe`UPDATE payouts SET cancel_reason = ${reason.slice(0, 500)} WHERE id = ${id}`,
  );
  await transition(tx, payout, state, "CANCELLED", {}, caller.principal, { reason }, "operator");
  return (await findPayout(tx, id)) as PayoutRow;
}

/** Approves a payout waiting for a second principal (never its creator, nor its creator's owner). */
export async function approvePayout(
  tx: DatabaseTransactionConnection,
  caller: Caller,
  id: string,
  comment: string,
): Promise<PayoutRow> {
  const payout = await lockPayout(tx, id);
  if (payout.state !== "AWAITING_APPROVAL") {
    throw new AppError("payout.invalid_state", "the payout is not awaiting approval", {
      metadata: { state: payout.state },
    });
  }
  if (payout.created_by === caller.principal) {
    throw new AppError(
      "auth.permission_denied",
      "a payout must be approved by someone other than its creator",
      {
        metadata: { required: "a different principal" },
      },
    );
  }
  // Four eyes means two people: a second key of the creator's owner is the same person.
  const [creatorOwner, approverOwner] = [
    await ownerOf(tx, payout.created_by),
    await ownerOf(tx, caller.principal),
  ];
  if (creatorOwner === approverOwner) {
    throw new AppError(
      "payout.approver_same_owner",
      "a payout must be approved by a key of another owner than its creator's",
      { metadata: { owner: approverOwner } },
    );
  }
  await tx.query(
    sql.unsafe`INSERT INTO approvals (operation_id, principal) VALUES (${id}, ${caller.principal})`,
  );
  await tx.query(
    sql.unsafe`UPDATE payouts SET approved_by = ${caller.principal}, approved_at = now() WHERE id = ${id}`,
  );
  await transition(
    tx,
    payout,
    "AWAITING_APPROVAL",
    "QUEUED",
    {},
    caller.principal,
    { approvedBy: caller.principal, comment },
    "operator",
  );
  await emitEvent(tx, "payout.approved", { id, approvedBy: caller.principal });
  return (await findPayout(tx, id)) as PayoutRow;
}
