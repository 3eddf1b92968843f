import { ENGINE_ACTOR, type EngineDeps } from "./deps.js";
import { failpoint } from "./failpoints.js";
import {
  type AttemptRow,
  liveAttempt,
  type OperationRow,
  recordBroadcast,
  reschedule,
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
  /** The live attempt when the caller has just read or stored it. */
  live?: AttemptRow,
): Promise<void> {
  const attempt = live ?? (await liveAttempt(deps.pool, op.id));
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
    const maybeSent = result.outcome !== "rejected";
    await recordBroadcast(tx, attempt, error, maybeSent);
    if (maybeSent && state === "SIGNED") {
      await transition(
        tx,
        op,
        "SIGNED",
        "BROADCAST",
        { nextRunInMs: deps.settings.rebroadcastMs },
        ENGINE_ACTOR,
        {
          txId: attempt.tx_id,
        },
      );
    } else {
      await reschedule(tx, op.id, maybeSent ? deps.settings.rebroadcastMs : deps.settings.followMs);
    }
  });
  if (error)
    deps.log.warn(
      { operationId: op.id, txId: attempt.tx_id, outcome: result.outcome, error },
      "broadcast not accepted",
    );
}
