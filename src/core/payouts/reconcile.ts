import type { CommonQueryMethods } from "slonik";
import { sql } from "slonik";
import { z } from "zod";
import { formatAmount } from "../../shared/money.js";
import { appendAudit } from "../audit.js";
import type { Chain, TxInfo } from "../chain/types.js";
import { AttemptRow, setAttemptState, transition } from "../engine/repo.js";
import type { OperationState } from "../engine/state.js";
import { PAYOUT_KINDS } from "../operations/kinds.js";
import { emitEvent } from "../outbox.js";
import { findPayout, lockPayout, type PayoutRow } from "./repo.js";

/** One difference between our records and the solidified chain. */
export interface Discrepancy {
  kind: "STATE" | "TX_NOT_FOUND" | "NETWORK_COST" | "MULTIPLE_INCLUDED";
  txId: string;
  recorded: string;
  observed: string;
  corrected: boolean;
}

/** What a reconciliation found and did. */
export interface Reconciliation {
  payout: PayoutRow;
  discrepancies: Discrepancy[];
  solidifiedBlock: bigint;
}

const ATTEMPT_COLUMNS = sql.fragment`id, operation_id, attempt_no, tx_id, raw_data, signature, expiration, fee_limit,
  state, broadcast_count, last_broadcast_at`;

/**
 * Re-checks one payout against the SOLIDIFIED chain, inside `tx` (which holds its row lock):
 * every attempt's receipt is read; the payout moves forward only where the chain proves it
 * (SIGNED/BROADCAST → CONFIRMED or FAILED), never backwards, and no attempt is created. Any
 * disagreement is written to the audit log as `reconcile.discrepancy`.
 */
export async function reconcilePayout(
  tx: CommonQueryMethods,
  chain: Chain,
  actor: string,
  id: string,
): Promise<Reconciliation> {
  const payout = await lockPayout(tx, id);
  const attempts = await tx.any(sql.type(AttemptRow)`
    SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE operation_id = ${id} ORDER BY attempt_no`);
  // The solidified head first: anything absent below is absent from a state at least this new.
  const solid = await chain.solidified();
  const seen: { attempt: AttemptRow; info: TxInfo }[] = [];
  const found: Discrepancy[] = [];
  for (const attempt of attempts) {
    const info = await chain.transactionInfo(attempt.tx_id, "solidified");
    if (info) seen.push({ attempt, info });
    found.push(...compareAttempt(payout, attempt, info));
  }
  if (seen.length > 1) {
    found.push({
      kind: "MULTIPLE_INCLUDED",
      txId: "",
      recorded: "at most one attempt included",
      observed: `${seen.length} attempts included: ${seen.map((s) => s.attempt.tx_id).join(", ")}`,
      corrected: false,
    });
  }
  const single = seen.length === 1 ? seen[0] : undefined;
  if (single) found.push(...(await advance(tx, payout, single.attempt, single.info, actor)));
  if (found.length > 0) await raiseDiscrepancy(tx, actor, id, found, solid.number);
  return {
    payout: (await findPayout(tx, id)) as PayoutRow,
    discrepancies: found,
    solidifiedBlock: solid.number,
  };
}

/** Differences of one attempt that need no write to describe. */
function compareAttempt(
  payout: PayoutRow,
  attempt: AttemptRow,
  info: TxInfo | undefined,
): Discrepancy[] {
  const txId = attempt.tx_id;
  if (!info) {
    // INCLUDED and FAILED attempts were read from the solidified chain: they must be there.
    if (attempt.state === "INCLUDED" || attempt.state === "FAILED")
      return [
        {
          kind: "TX_NOT_FOUND",
          txId,
          recorded: attempt.state,
          observed: "not found",
          corrected: false,
        },
      ];
    return [];
  }
  const observed = `included in block ${info.blockNumber} (${info.result})`;
  if (attempt.state === "EXPIRED")
    return [{ kind: "STATE", txId, recorded: "EXPIRED", observed, corrected: false }];
  const out: Discrepancy[] = [];
  const ok = info.result === "SUCCESS";
  if ((attempt.state === "INCLUDED" && !ok) || (attempt.state === "FAILED" && ok))
    out.push({ kind: "STATE", txId, recorded: attempt.state, observed, corrected: false });
  if ((payout.state === "CONFIRMED" && !ok) || (payout.state === "FAILED" && ok))
    out.push({ kind: "STATE", txId, recorded: payout.state, observed, corrected: false });
  const settled = payout.state === "CONFIRMED" || payout.state === "FAILED";
  if (settled && payout.fee_sun !== null && payout.fee_sun !== info.feeSun) {
    out.push({
      kind: "NETWORK_COST",
      txId,
      recorded: `${formatAmount(payout.fee_sun)} TRX burned`,
      observed: `${formatAmount(info.feeSun)} TRX burned`,
      corrected: false,
    });
  }
  return out;
}

/** SIGNED/BROADCAST and the chain shows the attempt included: settle it as the engine would. */
async function advance(
  tx: CommonQueryMethods,
  payout: PayoutRow,
  attempt: AttemptRow,
  info: TxInfo,
  actor: string,
): Promise<Discrepancy[]> {
  const state = payout.state as OperationState;
  if (state !== "SIGNED" && state !== "BROADCAST") return [];
  if (attempt.state !== "SIGNED" && attempt.state !== "BROADCAST") return [];
  const ok = info.result === "SUCCESS";
  const op = { id: payout.id, kind: payout.kind };
  const details = {
    txId: attempt.tx_id,
    blockNumber: info.blockNumber.toString(),
    reconciled: true,
  };
  const cost = { feeSun: info.feeSun, energyUsed: info.energyUsed, bandwidthUsed: info.netUsed };
  await setAttemptState(tx, attempt, ok ? "INCLUDED" : "FAILED", {
    blockNumber: info.blockNumber,
    receiptResult: info.result,
  });
  if (state === "SIGNED") await transition(tx, op, "SIGNED", "BROADCAST", {}, actor, details);
  if (ok) {
    await transition(tx, op, "BROADCAST", "CONFIRMED", { confirmed: true, cost }, actor, details);
  } else {
    const failure = {
      failureReason: `chain.${info.result.toLowerCase()}`,
      failureDetail: info.message ?? null,
    };
    await transition(tx, op, "BROADCAST", "FAILED", { cost, ...failure }, actor, details);
  }
  return [
    {
      kind: "STATE",
      txId: attempt.tx_id,
      recorded: state,
      observed: `included in block ${info.blockNumber} (${info.result})`,
      corrected: true,
    },
  ];
}

async function raiseDiscrepancy(
  tx: CommonQueryMethods,
  actor: string,
  id: string,
  found: Discrepancy[],
  solidifiedBlock: bigint,
): Promise<void> {
  const details = { solidifiedBlock: solidifiedBlock.toString(), discrepancies: found };
  await appendAudit(tx, { actor, action: "reconcile.discrepancy", subject: id, details });
  await emitEvent(tx, {
    type: "reconcile.discrepancy",
    subjectId: id,
    payload: { id, ...details },
  });
}

/** Payouts the periodic job re-checks: in flight, or confirmed within `recentMs`. */
export async function payoutsToReconcile(
  db: CommonQueryMethods,
  recentMs: number,
  limit: number,
): Promise<string[]> {
  const rows = await db.anyFirst(sql.type(z.object({ id: z.string() }))`
    SELECT id FROM operations
    WHERE kind = ANY(${sql.array([...PAYOUT_KINDS], "text")}) AND (state IN ('SIGNED', 'BROADCAST')
      OR (state = 'CONFIRMED' AND confirmed_at > now() - ${recentMs} * interval '1 millisecond'))
    ORDER BY updated_at LIMIT ${limit}`);
  return [...rows];
}
