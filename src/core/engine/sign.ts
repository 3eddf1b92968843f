import { sql } from "slonik";
import { emitEvent } from "../outbox.js";
import { planAttempt } from "./build.js";
import { ENGINE_ACTOR, type EngineDeps } from "./deps.js";
import { failpoint } from "./failpoints.js";
import { broadcastAttempt } from "./follow.js";
import { holdReasonFor } from "./funds.js";
import {
  insertAttempt,
  latestAttempt,
  type OperationRow,
  reschedule,
  StateChanged,
  transition,
} from "./repo.js";

/**
 * QUEUED → SIGNED → BROADCAST (every operation kind): check funds, build from a recent block,
 * have the signer sign,
 * store the signed attempt (committed before anything is sent), then broadcast it.
 */
export async function signAndSend(deps: EngineDeps, op: OperationRow): Promise<void> {
  const { pool, chain, settings } = deps;
  if (await deps.isPaused()) return reschedule(pool, op.id, settings.holdRecheckMs);
  const hold = await holdReasonFor(chain, op, settings.feeLimitSun);
  if (hold) {
    await pool.transaction(async (tx) => {
      await transition(
        tx,
        op,
        "QUEUED",
        "HELD",
        { holdReason: hold, nextRunInMs: settings.holdRecheckMs },
        ENGINE_ACTOR,
        { reason: hold },
      );
      // Integrators hear about the shortage once per hold, with what is short and where.
      await emitEvent(tx, {
        type: "wallet.low_balance",
        subjectId: op.wallet_id,
        payload: {
          walletId: op.wallet_id,
          address: op.owner_address,
          reason: hold,
          heldOperation: op.id,
        },
      });
    });
    return;
  }
  const previous = await latestAttempt(pool, op.id);
  if (previous && previous.state !== "EXPIRED") {
    throw new Error(
      `operation ${op.id} is QUEUED but attempt ${previous.tx_id} is ${previous.state}`,
    );
  }
  if (previous && Date.now() < previous.expiration + settings.replacementMarginMs) {
    return reschedule(pool, op.id, previous.expiration + settings.replacementMarginMs - Date.now());
  }
  const { built, intent } = await planAttempt(chain, settings, op, previous?.tx_id);
  const signed = await deps.signer.signTransaction({ intent, rawData: built.rawData });
  if (signed.txId !== built.txId) throw new Error("the signer signed a different transaction id");
  try {
    await pool.transaction(async (tx) => {
      await insertAttempt(tx, {
        operationId: op.id,
        attemptNo: (previous?.attempt_no ?? 0) + 1,
        txId: built.txId,
        rawData: built.rawData,
        signature: signed.signature,
        expiration: built.expiration,
        feeLimit: built.feeLimit,
      });
      await transition(tx, op, "QUEUED", "SIGNED", { holdReason: null }, ENGINE_ACTOR, {
        txId: built.txId,
      });
    });
  } catch (err) {
    // Cancelled (or taken by another replica) while we signed: the signed bytes were never
    // stored, so they are never sent.
    if (err instanceof StateChanged) return;
    throw err;
  }
  deps.log.info({ operationId: op.id, txId: built.txId }, "attempt signed and stored");
  failpoint("after_attempt_stored");
  await broadcastAttempt(deps, op, "SIGNED");
}

/** HELD → QUEUED once the wallet can pay; otherwise look again later. */
export async function recheckHold(deps: EngineDeps, op: OperationRow): Promise<void> {
  const hold = await holdReasonFor(deps.chain, op, deps.settings.feeLimitSun);
  if (hold) {
    if (hold !== op.hold_reason) {
      // A different shortage than before: keep the visible reason current.
      await deps.pool.query(
        sql.unsafe`UPDATE operations SET hold_reason = ${hold} WHERE id = ${op.id} AND state = 'HELD'`,
      );
    }
    return reschedule(deps.pool, op.id, deps.settings.holdRecheckMs);
  }
  await deps.pool.transaction((tx) =>
    transition(tx, op, "HELD", "QUEUED", { holdReason: null }, ENGINE_ACTOR),
  );
}
