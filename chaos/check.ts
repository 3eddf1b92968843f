import { sql } from "slonik";
import { z } from "zod";
import { verifyAudit } from "../src/core/kernel/audit-verify.js";
import { parseAddress, toHex41 } from "../src/shared/address.js";
import { type ChainPayment, paymentsByRecipient, solidBalance } from "./ledger.js";
import type { LoadResult } from "./load.js";
import type { Intent } from "./plan.js";
import type { ChaosStack } from "./stack.js";

const TERMINAL = ["CONFIRMED", "FAILED", "CANCELLED"];
const STATE = z.object({ id: z.string(), state: z.string(), included: z.string().nullable() });

/** The end of a run: counts and every violation found. */
export interface Verdict {
  counts: Record<string, number>;
  violations: string[];
}

/** Polls the database until every accepted payout is terminal or the deadline passes. */
export async function waitTerminal(
  stack: ChaosStack,
  ids: string[],
  ms: number,
): Promise<Map<string, z.infer<typeof STATE>>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const rows = await stack.db.pool.any(sql.type(STATE)`
      SELECT o.id, o.state,
             (SELECT a.tx_id FROM attempts a WHERE a.operation_id = o.id AND a.state = 'INCLUDED' LIMIT 1) AS included
      FROM payouts p JOIN operations o ON o.id = p.id`);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const open = ids.filter((id) => !TERMINAL.includes(byId.get(id)?.state ?? ""));
    if (open.length === 0 || Date.now() > deadline) return byId;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/**
 * The invariants, on the devnet's solidified chain: each accepted payout that is not cancelled
 * is paid exactly once (one successful transaction to its fresh recipient, by the txID core
 * recorded, and the recipient's balance equal to the amount); nothing cancelled, failed or
 * refused is paid; nobody else is paid; the audit chain verifies.
 */
export async function verify(
  stack: ChaosStack,
  load: LoadResult,
  states: Map<string, z.infer<typeof STATE>>,
  walletAddress: string,
): Promise<Verdict> {
  const v: string[] = [];
  const counts = {
    accepted: load.accepted.size,
    confirmed: 0,
    failed: 0,
    cancelled: 0,
    duplicates: 0,
    lost: 0,
    refused: load.refused.length,
  };
  const paid = paymentsByRecipient(stack.net.devnet);
  const wallet = toHex41(parseAddress(walletAddress));
  for (const [id, intent] of load.accepted) {
    const row = states.get(id);
    const payments = paid.get(toHex41(parseAddress(intent.recipient))) ?? [];
    paid.delete(toHex41(parseAddress(intent.recipient)));
    const state = row?.state ?? "MISSING";
    if (state === "CONFIRMED") counts.confirmed++;
    else if (state === "FAILED") counts.failed++;
    else if (state === "CANCELLED") counts.cancelled++;
    if (payments.length > 1) {
      counts.duplicates++;
      v.push(
        `${id} (${intent.key}): paid ${payments.length} times: ${payments.map((p) => p.txId).join(", ")}`,
      );
    }
    if (state === "CONFIRMED")
      checkConfirmed(stack, id, intent, payments, row?.included ?? null, v, counts);
    else if (payments.length > 0) v.push(`${id} (${intent.key}) is ${state} but was paid on chain`);
    else if (!TERMINAL.includes(state)) {
      counts.lost++;
      v.push(`${id} (${intent.key}) is still ${state} after the deadline`);
    }
  }
  if (counts.cancelled !== load.cancelled.size) {
    v.push(
      `${load.cancelled.size} cancels were answered, but ${counts.cancelled} payouts are CANCELLED`,
    );
  }
  for (const r of load.refused) {
    if (paid.has(toHex41(parseAddress(r.recipient)))) v.push(`refused request ${r.key} was paid`);
  }
  for (const [to, list] of paid) {
    if (list.length > 0 && to !== wallet)
      v.push(`${list.length} payment(s) to ${to}, which nobody asked for`);
  }
  const extra = states.size - load.accepted.size;
  if (extra !== 0)
    v.push(`the database holds ${states.size} payouts for ${load.accepted.size} accepted`);
  const audit = await verifyAudit(stack.db.pool);
  if (!audit.ok)
    v.push(`audit chain broken at seq ${audit.firstBadSeq} (${audit.checked} rows verified)`);
  for (const w of load.wronglyRefused) v.push(`valid request ${w.intent.key} refused: ${w.error}`);
  for (const g of load.gaveUp) v.push(`request ${g.key} unanswered until the deadline: ${g.error}`);
  return { counts: { ...counts, auditRows: audit.checked }, violations: v };
}

function checkConfirmed(
  stack: ChaosStack,
  id: string,
  intent: Intent,
  payments: ChainPayment[],
  includedTx: string | null,
  v: string[],
  counts: { lost: number },
) {
  const one = payments[0];
  if (!one) {
    counts.lost++;
    v.push(`${id} (${intent.key}) is CONFIRMED but no transaction pays its recipient`);
    return;
  }
  if (one.asset !== intent.asset || one.amount !== intent.amount) {
    v.push(`${id}: chain paid ${one.amount} ${one.asset}, asked ${intent.amount} ${intent.asset}`);
  }
  if (includedTx !== one.txId)
    v.push(`${id}: core recorded tx ${includedTx}, the chain paid with ${one.txId}`);
  const balance = solidBalance(stack.net.devnet, intent.recipient, intent.asset);
  if (balance !== intent.amount)
    v.push(`${id}: recipient balance ${balance}, expected ${intent.amount}`);
}
