import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  type SignIntent,
  SignIntentSchema,
  type SignTransactionResponse,
} from "../../gen/tronpay/signer/v1/signer_pb.js";
import { emitEvent } from "../kernel/outbox.js";
import { attemptStored } from "./attempts-repo.js";
import { broadcastAttempt } from "./broadcast.js";
import { planAttempt } from "./build.js";
import { ENGINE_ACTOR, type EngineDeps } from "./deps.js";
import { failpoint } from "./failpoints.js";
import { holdReasonFor } from "./funds.js";
import {
  type AttemptRow,
  insertAttempt,
  latestAttempt,
  type OperationRow,
  reschedule,
  StateChanged,
  setHoldReason,
  transition,
} from "./repo.js";

/** How soon a QUEUED operation is looked at again while no TRON node is available (ms). */
const NODE_DOWN_RECHECK_MS = 2_000;

/**
 * QUEUED → SIGNED → BROADCAST (every operation kind): check funds, build from a recent block,
 * have the signer sign,
 * store the signed attempt (committed before anything is sent), then broadcast it.
 */
export async function signAndSend(deps: EngineDeps, op: OperationRow): Promise<void> {
  const { pool, chain, settings } = deps;
  if (await deps.isPaused()) return reschedule(pool, op.id, settings.holdRecheckMs);
  // Every node's breaker is open: sign nothing new until one closes (node-gate.ts).
  if (!chain.anyNodeAvailable()) return reschedule(pool, op.id, NODE_DOWN_RECHECK_MS);
  // The energy top-up policy may ask a batch's transfer to wait for its delegation (bounded).
  const wait = await deps.beforeSign?.(op);
  if (wait !== undefined) return reschedule(pool, op.id, wait);
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
      await emitEvent(tx, "wallet.low_balance", {
        walletId: op.wallet_id,
        address: op.owner_address,
        reason: hold,
        heldOperation: op.id,
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
  const replaceAt = previous ? previous.expiration + settings.replacementMarginMs : 0;
  const now = deps.clock();
  if (now < replaceAt) return reschedule(pool, op.id, replaceAt - now);
  const { built, intent } = await planAttempt(chain, settings, op, previous?.tx_id);
  // A breaker may have opened while this one was being built.
  if (!chain.anyNodeAvailable()) return reschedule(pool, op.id, NODE_DOWN_RECHECK_MS);
  let signed: SignTransactionResponse | undefined;
  try {
    signed = await signRecoveringOrphans(deps, op, intent, built.rawData, previous?.raw_data);
  } catch (err) {
    const refusal = policyRefusalOf(err);
    if (!refusal) throw err;
    return failForPolicy(deps, op, refusal);
  }
  if (!signed) return;
  failpoint("after_signed");
  if (signed.txId !== built.txId) throw new Error("the signer signed a different transaction id");
  let stored: AttemptRow;
  try {
    stored = await pool.transaction(async (tx) => {
      const row = await insertAttempt(tx, {
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
      return row;
    });
  } catch (err) {
    // Cancelled (or taken by another replica) while we signed: the signed bytes were never
    // stored, so they are never sent.
    if (err instanceof StateChanged) return;
    throw err;
  }
  deps.log.info({ operationId: op.id, txId: built.txId }, "attempt signed and stored");
  failpoint("after_attempt_stored");
  await broadcastAttempt(deps, op, "SIGNED", stored);
}

/** The signer's policy refusal in an error from it: the rule and its message; else undefined. */
function policyRefusalOf(err: unknown): { rule: string; message: string } | undefined {
  if (!(err instanceof ConnectError)) return undefined;
  const info = err.findDetails(ErrorInfoSchema)[0];
  if (info?.reason !== "signer.policy_denied") return undefined;
  return { rule: info.metadata.rule ?? "", message: err.rawMessage };
}

/**
 * The signer refused the operation for its policy (changed since it was accepted, or a core
 * that did not know it): asking again would be refused again, so it ends FAILED with the
 * signer's reason and rule, an event and a metric, and stops counting toward daily limits.
 * Nothing was signed, so nothing can reach the chain.
 */
async function failForPolicy(
  deps: EngineDeps,
  op: OperationRow,
  refusal: { rule: string; message: string },
): Promise<void> {
  try {
    await deps.pool.transaction((tx) =>
      transition(
        tx,
        op,
        "QUEUED",
        "FAILED",
        {
          failureReason: "signer.policy_denied",
          failureDetail: `${refusal.rule}: ${refusal.message}`.slice(0, 500),
        },
        ENGINE_ACTOR,
        { reason: "signer.policy_denied", rule: refusal.rule },
      ),
    );
  } catch (err) {
    if (err instanceof StateChanged) return;
    throw err;
  }
  deps.onPolicyRefused?.(refusal.rule);
  deps.log.warn(
    { operationId: op.id, reason: "signer.policy_denied", rule: refusal.rule },
    "the signer refused the operation for its policy; it failed and is not retried",
  );
}

/** HELD → QUEUED once the wallet can pay; otherwise look again later. */
export async function recheckHold(deps: EngineDeps, op: OperationRow): Promise<void> {
  const hold = await holdReasonFor(deps.chain, op, deps.settings.feeLimitSun);
  if (hold) {
    if (hold !== op.hold_reason) {
      // A different shortage than before: keep the visible reason current.
      await setHoldReason(deps.pool, op.id, hold);
    }
    return reschedule(deps.pool, op.id, deps.settings.holdRecheckMs);
  }
  await deps.pool.transaction((tx) =>
    transition(tx, op, "HELD", "QUEUED", { holdReason: null }, ENGINE_ACTOR),
  );
}

/**
 * Signs, and recovers from an orphan signature: if core died after the signer journaled a
 * signature but before the attempt was stored, that transaction was never broadcast (attempts
 * are stored before they are sent), and the signer names it in its refusal. Once it has expired
 * past the margin it is replaced like any expired attempt; until then the operation waits.
 * Returns undefined when it must wait. The replaced attempt's stored bytes go along, so a
 * signer that did not sign it (another replica's) can check it expired (signer.proto).
 */
async function signRecoveringOrphans(
  deps: EngineDeps,
  op: OperationRow,
  intent: SignIntent,
  rawData: Uint8Array,
  previousRawData: Uint8Array | undefined,
): Promise<SignTransactionResponse | undefined> {
  try {
    return await deps.signer.signTransaction({ intent, rawData, previousRawData });
  } catch (err) {
    const info = err instanceof ConnectError ? err.findDetails(ErrorInfoSchema)[0] : undefined;
    const orphan = info?.metadata.latest_tx_id;
    const replaceAfter = Number(info?.metadata.replace_after_ms);
    if (info?.reason !== "signer.replacement_refused" || !orphan || !Number.isFinite(replaceAfter))
      throw err;
    if (await attemptStored(deps.pool, orphan)) throw err;
    deps.log.warn(
      { operationId: op.id, orphanTxId: orphan },
      "signature never stored (crash); replacing it once expired",
    );
    const now = deps.clock();
    if (now <= replaceAfter) {
      await reschedule(deps.pool, op.id, replaceAfter - now + 1);
      return undefined;
    }
    return deps.signer.signTransaction({
      intent: create(SignIntentSchema, { ...intent, previousTxId: orphan }),
      rawData,
    });
  }
}
