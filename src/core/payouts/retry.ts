import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import { transition } from "../engine/repo.js";
import { appendAudit } from "../kernel/audit.js";
import { emitEvent } from "../kernel/outbox.js";
import type { Caller } from "./flows.js";
import { checkDailyLimit } from "./limits.js";
import { findPayout, lockPayout, type PayoutRow } from "./repo.js";
import type { PayoutRules } from "./validate.js";

const Sent = z.object({ sent: z.boolean() });

/**
 * RetryPayout: HELD → QUEUED now; FAILED → QUEUED only when nothing was ever broadcast (a
 * transaction that reached a node may still be included, so re-sending could pay twice).
 * Anything else is payout.invalid_state.
 */
export async function retryPayout(
  tx: CommonQueryMethods,
  rules: PayoutRules,
  caller: Caller,
  id: string,
): Promise<PayoutRow> {
  const payout = await lockPayout(tx, id);
  if (payout.state === "HELD") {
    await transition(tx, payout, "HELD", "QUEUED", { holdReason: null }, caller.principal, {
      retry: true,
    });
  } else if (payout.state === "FAILED") {
    if (await everBroadcast(tx, id)) {
      throw new AppError(
        "payout.invalid_state",
        "a payout that was broadcast is never retried; create a new payout",
        { metadata: { state: payout.state } },
      );
    }
    await requeueFailed(tx, rules, caller, payout);
  } else {
    throw new AppError("payout.invalid_state", `a ${payout.state} payout cannot be retried`, {
      metadata: { state: payout.state },
    });
  }
  return (await findPayout(tx, id)) as PayoutRow;
}

/**
 * True when any attempt may have reached a node: broadcast at least once, or in a state that
 * only follows a broadcast. A signed attempt that was never sent stays with us.
 */
async function everBroadcast(db: CommonQueryMethods, id: string): Promise<boolean> {
  return db.oneFirst(sql.type(Sent)`
    SELECT EXISTS (
      SELECT 1 FROM attempts WHERE operation_id = ${id}
        AND (broadcast_count > 0 OR state IN ('BROADCAST', 'INCLUDED', 'FAILED'))) AS sent`);
}

/**
 * FAILED is terminal for the engine (engine/state.ts); this operator action is its only exit,
 * so it is written here with its own guard rather than added to the engine's table. A FAILED
 * payout no longer counts against the daily limit, so the limit is checked again.
 */
async function requeueFailed(
  tx: CommonQueryMethods,
  rules: PayoutRules,
  caller: Caller,
  payout: PayoutRow,
): Promise<void> {
  // Checked against today, as a new payout would be; the database counts it again on its own
  // day once it leaves FAILED (migration 012).
  await checkDailyLimit(tx, rules, [payout], "id");
  // A live-but-unsent attempt would block the new one (one live attempt per operation).
  await tx.query(sql.unsafe`
    UPDATE attempts SET state = 'EXPIRED' WHERE operation_id = ${payout.id} AND state = 'SIGNED'
      AND broadcast_count = 0`);
  await tx.query(sql.unsafe`
    UPDATE operations SET state = 'QUEUED', failure_reason = NULL, failure_detail = NULL, updated_at = now(),
      next_run_at = now()
    WHERE id = ${payout.id} AND state = 'FAILED'`);
  // A closed batch opens again while one of its payouts is back in the queue.
  await tx.query(sql.unsafe`
    UPDATE payout_batches SET state = 'PROCESSING', completed_at = NULL
    WHERE id = (SELECT batch_id FROM payouts WHERE id = ${payout.id})`);
  const details = {
    from: "FAILED",
    to: "QUEUED",
    retry: true,
    previousFailure: payout.failure_reason,
  };
  await appendAudit(tx, {
    actor: caller.principal,
    action: "payout.queued",
    subject: payout.id,
    details,
  });
  await emitEvent(tx, {
    type: "payout.queued",
    subjectId: payout.id,
    payload: { id: payout.id, kind: payout.kind, ...details },
  });
}
