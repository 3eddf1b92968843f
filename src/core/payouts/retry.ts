import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import { expireUnsentAttempts, transition } from "../engine/repo.js";
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
    await transition(
      tx,
      payout,
      "HELD",
      "QUEUED",
      { holdReason: null },
      caller.principal,
      { retry: true },
      "operator",
    );
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
 * FAILED is terminal for the engine; this operator move is its only exit (OPERATOR_TRANSITIONS
 * in engine/state.ts). A FAILED payout no longer counts against the daily limit, so the limit
 * is checked again.
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
  await expireUnsentAttempts(tx, payout.id);
  // transition() also opens the payout's closed batch again.
  await transition(
    tx,
    payout,
    "FAILED",
    "QUEUED",
    { failureReason: null, failureDetail: null },
    caller.principal,
    { retry: true, previousFailure: payout.failure_reason },
    "operator",
  );
}
