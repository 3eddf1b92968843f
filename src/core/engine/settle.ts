import type { TxInfo } from "../chain/types.js";
import { KINDS } from "../operations/kinds.js";
import { broadcastAttempt } from "./broadcast.js";
import { ENGINE_ACTOR, type EngineDeps } from "./deps.js";
import { failpoint } from "./failpoints.js";
import {
  type AttemptRow,
  followFacts,
  type OperationRow,
  reschedule,
  StateChanged,
  setAttemptState,
  transition,
} from "./repo.js";

/** How long the follower's cursor may stand still before the engine asks the node itself (ms). */
const FOLLOWER_STALE_MS = 30_000;
/** Rebroadcast intervals to wait once the head has the transaction in a block. */
const IN_BLOCK_WAIT_INTERVALS = 4;

/**
 * SIGNED/BROADCAST: decide from the SOLIDIFIED chain only. Inclusion comes from the receipts
 * the follower records from the solidified blocks it reads (incoming/repo.ts); while its cursor
 * moves, nothing is asked about this transaction until the cursor's block is past the
 * expiration. Then, or when the follower stands still, the node decides as it always did:
 * included → CONFIRMED (or FAILED with the fee burned); provably expired unincluded → the
 * attempt is EXPIRED and the operation goes back to QUEUED for a new attempt. Otherwise
 * rebroadcast the same bytes when due, unless the head already has them in a block, and look
 * again (the follower wakes the operation as soon as it records the receipt).
 */
export async function settleAttempt(deps: EngineDeps, op: OperationRow): Promise<void> {
  const { pool, chain, settings } = deps;
  const facts = await followFacts(pool, op.id);
  const attempt = facts.attempt;
  if (!attempt) throw new Error(`operation ${op.id} is ${op.state} without a live attempt`);
  if (facts.receipt) return settleIncluded(deps, op, attempt, facts.receipt);
  const pastExpiry = (t: number) => t > attempt.expiration + settings.expiryMarginMs;
  const followerLive = facts.cursorTime !== null && facts.cursorAgeMs < FOLLOWER_STALE_MS;
  if (!followerLive || pastExpiry(facts.cursorTime ?? 0)) {
    // Read the solidified head BEFORE looking for the transaction: if it is absent from a
    // state at least that new, it was absent when the head passed its expiration. (A receipt
    // the follower did not record, e.g. of a block it scanned before it recorded receipts, is
    // found here.)
    const solid = await chain.solidified();
    const info = await chain.transactionInfo(attempt.tx_id, "solidified");
    if (info) return settleIncluded(deps, op, attempt, info);
    if (pastExpiry(solid.timestamp)) return expire(deps, op, attempt);
  }
  const sinceSent =
    attempt.last_broadcast_at === null
      ? Number.POSITIVE_INFINITY
      : deps.clock() - attempt.last_broadcast_at;
  // In a block that is not solidified yet: sending the bytes again does nothing (or is refused
  // once they expire), so keep following. A reorg that drops the block makes the head lookup
  // come back empty, and the rebroadcasts resume. A failed lookup is no answer: rebroadcast as
  // before (an error here would hold the operation back for the engine's error delay while its
  // transaction may be expiring unsent).
  if (sinceSent >= settings.rebroadcastMs) {
    if (!(await chain.transactionInfo(attempt.tx_id, "head").catch(() => undefined)))
      return broadcastAttempt(deps, op, op.state, attempt);
    if (followerLive)
      return reschedule(pool, op.id, settings.rebroadcastMs * IN_BLOCK_WAIT_INTERVALS);
  }
  const untilDue = Math.max(settings.rebroadcastMs - sinceSent, 0);
  await reschedule(
    pool,
    op.id,
    followerLive ? Math.max(untilDue, settings.followMs) : settings.followMs,
  );
}

async function settleIncluded(
  deps: EngineDeps,
  op: OperationRow,
  attempt: AttemptRow,
  info: TxInfo,
): Promise<void> {
  failpoint("before_settle");
  const ok = info.result === "SUCCESS";
  const cost = { feeSun: info.feeSun, energyUsed: info.energyUsed, bandwidthUsed: info.netUsed };
  // A USDT transfer is a payout too (same id); its time to confirm is measured for metrics.
  const timed = deps.onPayoutConfirmed && KINDS[op.kind].pays;
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
      const { ageSeconds } = await transition(
        tx,
        op,
        "BROADCAST",
        "CONFIRMED",
        { confirmed: true, cost },
        ENGINE_ACTOR,
        details,
      );
      return timed ? ageSeconds : undefined;
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
  const wait = Math.max(0, attempt.expiration + deps.settings.replacementMarginMs - deps.clock());
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
