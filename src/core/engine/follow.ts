import { sql } from "slonik";
import { z } from "zod";
import { ENGINE_ACTOR, type EngineDeps } from "./deps.js";
import { failpoint } from "./failpoints.js";
import {
  type AttemptRow,
  liveAttempt,
  type OperationRow,
  recordBroadcast,
  reschedule,
  StateChanged,
  setAttemptState,
  transition,
} from "./repo.js";
import type { OperationState } from "./state.js";

/**
 * Sends the stored bytes of the live attempt (the same bytes every time). An "unknown" outcome
 * counts as maybe sent; only a solidified chain past the expiration ever proves "not sent".
 */
export async function broadcastAttempt(
  deps: EngineDeps,
  op: OperationRow,
  state: OperationState,
): Promise<void> {
  const attempt = await liveAttempt(deps.pool, op.id);
  if (!attempt) throw new Error(`operation ${op.id} is ${state} without a live attempt`);
  const result = await deps.chain.broadcast(attempt.raw_data, attempt.signature);
  failpoint("after_broadcast");
  const error =
    result.outcome === "rejected"
      ? `${result.code}: ${result.message}`
      : result.outcome === "unknown"
        ? `unknown: ${result.detail}`
        : null;
  await deps.pool.transaction(async (tx) => {
    await recordBroadcast(tx, attempt.id, error);
    const maybeSent = result.outcome !== "rejected";
    if (maybeSent && attempt.state === "SIGNED") await setAttemptState(tx, attempt, "BROADCAST");
    if (maybeSent && state === "SIGNED") {
      await transition(
        tx,
        op,
        "SIGNED",
        "BROADCAST",
        { nextRunInMs: deps.settings.followMs },
        ENGINE_ACTOR,
        {
          txId: attempt.tx_id,
        },
      );
    } else {
      await reschedule(tx, op.id, deps.settings.followMs);
    }
  });
  if (error)
    deps.log.warn(
      { operationId: op.id, txId: attempt.tx_id, outcome: result.outcome, error },
      "broadcast not accepted",
    );
}

/**
 * SIGNED/BROADCAST: decide from the SOLIDIFIED chain only. Included → CONFIRMED (or FAILED with
 * the fee burned); provably expired unincluded → the attempt is EXPIRED and the operation goes
 * back to QUEUED for a new attempt; otherwise rebroadcast the same bytes when due, unless the
 * head already has them in a block, and look again.
 */
export async function follow(deps: EngineDeps, op: OperationRow): Promise<void> {
  const { pool, chain, settings } = deps;
  const attempt = await liveAttempt(pool, op.id);
  if (!attempt) throw new Error(`operation ${op.id} is ${op.state} without a live attempt`);
  // Read the solidified head BEFORE looking for the transaction: if it is absent from a state
  // at least that new, it was absent when the head passed its expiration.
  const solid = await chain.solidified();
  const info = await chain.transactionInfo(attempt.tx_id, "solidified");
  if (info) return settle(deps, op, attempt, info);
  if (solid.timestamp > attempt.expiration + settings.expiryMarginMs)
    return expire(deps, op, attempt);
  const due =
    attempt.last_broadcast_at === null ||
    Date.now() - attempt.last_broadcast_at >= settings.rebroadcastMs;
  // In a block that is not solidified yet: sending the bytes again does nothing (or is refused
  // once they expire), so keep following. A reorg that drops the block makes the head lookup
  // come back empty, and the rebroadcasts resume. A failed lookup is no answer: rebroadcast as
  // before (an error here would hold the operation back for the engine's error delay while its
  // transaction may be expiring unsent).
  if (due && !(await chain.transactionInfo(attempt.tx_id, "head").catch(() => undefined)))
    return broadcastAttempt(deps, op, op.state);
  await reschedule(pool, op.id, settings.followMs);
}

async function settle(
  deps: EngineDeps,
  op: OperationRow,
  attempt: AttemptRow,
  info: NonNullable<Awaited<ReturnType<EngineDeps["chain"]["transactionInfo"]>>>,
): Promise<void> {
  failpoint("before_settle");
  const ok = info.result === "SUCCESS";
  const cost = { feeSun: info.feeSun, energyUsed: info.energyUsed, bandwidthUsed: info.netUsed };
  // A USDT transfer is a payout too (same id); its time to confirm is measured for metrics.
  const timed = deps.onPayoutConfirmed && (op.kind === "PAYOUT" || op.kind === "USDT_TRANSFER");
  const acceptedToConfirmed = await deps.pool.transaction(async (tx) => {
    await setAttemptState(tx, attempt, ok ? "INCLUDED" : "FAILED", {
      blockNumber: info.blockNumber,
      receiptResult: info.result,
    });
    // A SIGNED operation whose broadcast answer was lost can be found included: pass through
    // BROADCAST so the table of transitions holds.
    if (op.state === "SIGNED")
      await transition(tx, op, "SIGNED", "BROADCAST", {}, ENGINE_ACTOR, { txId: attempt.tx_id });
    const details = {
      txId: attempt.tx_id,
      blockNumber: info.blockNumber.toString(),
      feeSun: info.feeSun.toString(),
    };
    if (ok) {
      await transition(
        tx,
        op,
        "BROADCAST",
        "CONFIRMED",
        { confirmed: true, cost },
        ENGINE_ACTOR,
        details,
      );
      if (!timed) return undefined;
      return tx.oneFirst(sql.type(z.object({ s: z.number() }))`
        SELECT extract(epoch FROM confirmed_at - created_at)::float8 AS s FROM operations WHERE id = ${op.id}`);
    } else {
      await transition(
        tx,
        op,
        "BROADCAST",
        "FAILED",
        {
          cost,
          failureReason: `chain.${info.result.toLowerCase()}`,
          failureDetail: info.message ?? null,
        },
        ENGINE_ACTOR,
        details,
      );
      return undefined;
    }
  });
  if (acceptedToConfirmed !== undefined) deps.onPayoutConfirmed?.(op.asset, acceptedToConfirmed);
  deps.log.info(
    { operationId: op.id, txId: attempt.tx_id, result: info.result },
    ok ? "confirmed" : "failed on chain",
  );
}

async function expire(deps: EngineDeps, op: OperationRow, attempt: AttemptRow): Promise<void> {
  const exhausted = attempt.attempt_no >= deps.settings.maxAttempts;
  const wait = Math.max(0, attempt.expiration + deps.settings.replacementMarginMs - Date.now());
  try {
    await deps.pool.transaction(async (tx) => {
      await setAttemptState(tx, attempt, "EXPIRED");
      const to = exhausted ? "FAILED" : "QUEUED";
      await transition(
        tx,
        op,
        op.state,
        to,
        exhausted
          ? {
              failureReason: "payout.attempts_exhausted",
              failureDetail: `${attempt.attempt_no} attempts expired unincluded`,
            }
          : { nextRunInMs: wait },
        ENGINE_ACTOR,
        { txId: attempt.tx_id, expired: true },
      );
    });
  } catch (err) {
    if (!(err instanceof StateChanged)) throw err;
  }
  deps.log.warn(
    { operationId: op.id, txId: attempt.tx_id, exhausted },
    "attempt expired unincluded",
  );
}
