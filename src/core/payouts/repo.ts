import { type CommonQueryMethods, type FragmentSqlToken, sql } from "slonik";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import { formatAmount } from "../../shared/money.js";
import { auditAppendCtes } from "../kernel/audit.js";
import { eventCte, type OutboxEvent } from "../kernel/outbox.js";
import { isPayoutKind, PAYOUT_KINDS, type PayoutKind } from "../operations/kinds.js";
import { OperationRecord } from "../operations/row.js";

/** A payout as stored: its operation, its payout details and its attempts. */
export const PayoutRow = OperationRecord.pick({
  id: true,
  state: true,
  asset: true,
  amount: true,
  wallet_id: true,
  owner_address: true,
  counterparty_address: true,
  memo: true,
  priority: true,
  hold_reason: true,
  failure_reason: true,
  failure_detail: true,
  created_by: true,
  created_at: true,
  updated_at: true,
  confirmed_at: true,
  fee_sun: true,
  energy_used: true,
  bandwidth_used: true,
  activated_recipient: true,
}).extend({
  kind: OperationRecord.shape.kind.refine(isPayoutKind, "not a payout kind"),
  route: z.enum(["V0", "KYC", "DIRECT"]),
  payee_tag: z.string().nullable(),
  client_reference: z.string(),
  metadata: z.record(z.string()),
  kyc_hash: z.string().nullable(),
  batch_id: z.string().nullable(),
  batch_item_reference: z.string(),
  approved_by: z.string().nullable(),
  cancel_reason: z.string().nullable(),
  service_fee: z.bigint(),
  /** created_at in whole microseconds: exact, for keyset cursors (ms numbers lose precision). */
  created_us: z.bigint(),
});
export type PayoutRow = z.infer<typeof PayoutRow>;

export const PayoutAttemptRow = z.object({
  operation_id: z.string(),
  tx_id: z.string(),
  state: z.string(),
  expiration: z.number(),
  broadcast_count: z.number(),
  block_number: z.bigint().nullable(),
  fee_limit: z.bigint(),
  last_broadcast_error: z.string().nullable(),
  signed_at: z.number(),
});
export type PayoutAttemptRow = z.infer<typeof PayoutAttemptRow>;

// Columns of a payout from operations `o` and payouts `p` (tables, or an INSERT's RETURNING).
export const PAYOUT_COLUMNS = sql.fragment`
  o.id, o.kind, o.state, o.asset, o.amount, o.wallet_id, o.owner_address, o.counterparty_address, o.memo, o.priority,
         o.hold_reason, o.failure_reason, o.failure_detail, o.created_by, o.created_at, o.updated_at, o.confirmed_at,
         o.fee_sun, o.energy_used, o.bandwidth_used, o.activated_recipient,
         p.route, p.payee_tag, p.client_reference, p.metadata, p.kyc_hash, p.batch_id, p.batch_item_reference,
         p.approved_by, p.cancel_reason, p.service_fee,
         (extract(epoch FROM o.created_at) * 1000000)::bigint AS created_us`;
const PAYOUT_SELECT = sql.fragment`
  SELECT ${PAYOUT_COLUMNS} FROM operations o JOIN payouts p ON p.id = o.id`;

/** What a new payout stores. */
export interface NewPayout {
  id: string;
  kind: PayoutKind;
  principal: string;
  idempotencyKey: string | null;
  walletId: string;
  ownerAddress: string;
  recipientAddress: string;
  payeeTag: string | null;
  asset: "TRX" | "USDT";
  amount: bigint;
  route: "V0" | "KYC" | "DIRECT";
  priority: number;
  memo: string;
  clientReference: string;
  metadata: Record<string, string>;
  kycHash: string | null;
  approvalRequired: boolean;
  batchId: string | null;
  batchIndex: number | null;
  batchItemReference: string;
}

/**
 * Inserts the operation and payout rows, an audit row and a payout.created event in one
 * statement, which answers the stored payout as findPayout would. The payout counts on its
 * route's daily counter when the transaction commits (migration 014); with `limitCheck`
 * (checkDailyLimit(…, "commit")) the commit also fails with payout.limit_exceeded when that
 * takes the counter above the limit. Without it the caller has checked the limit
 * (checkDailyLimit(…, "now"), for batches).
 */
export async function insertPayout(
  tx: CommonQueryMethods,
  p: NewPayout,
  limitCheck?: FragmentSqlToken,
): Promise<PayoutRow> {
  const state = p.approvalRequired ? "AWAITING_APPROVAL" : "QUEUED";
  const details = {
    state: state as typeof state,
    asset: p.asset,
    amount: p.amount.toString(),
    recipient: p.recipientAddress,
    route: p.route,
    batchId: p.batchId,
  };
  const created: OutboxEvent = {
    type: "payout.created",
    payload: { id: p.id, ...details, amount: formatAmount(p.amount) },
  };
  // Created straight into AWAITING_APPROVAL, it has entered that state too: subscribers of
  // payout.awaiting_approval hear of it like of any other state it enters.
  const awaiting: OutboxEvent = {
    type: "payout.awaiting_approval",
    payload: { id: p.id, kind: p.kind, from: null, to: state },
  };
  const event = eventCte(state === "AWAITING_APPROVAL" ? [created, awaiting] : [created]);
  return tx.one(sql.type(PayoutRow)`
    WITH o AS (
      INSERT INTO operations (id, kind, state, asset, amount, wallet_id, owner_address, counterparty_address,
                              memo, priority, created_by)
      VALUES (${p.id}, ${p.kind}, ${state}, ${p.asset}, ${p.amount}, ${p.walletId}, ${p.ownerAddress},
              ${p.recipientAddress}, ${p.memo}, ${p.priority}, ${p.principal})
      RETURNING *
    ), p AS (
      INSERT INTO payouts (id, principal, idempotency_key, route, payee_tag, client_reference, metadata, kyc_hash,
                           batch_id, batch_index, batch_item_reference, approval_required)
      VALUES (${p.id}, ${p.principal}, ${p.idempotencyKey}, ${p.route}, ${p.payeeTag}, ${p.clientReference},
              ${sql.jsonb(p.metadata)}, ${p.kycHash}, ${p.batchId}, ${p.batchIndex}, ${p.batchItemReference},
              ${p.approvalRequired})
      RETURNING *
    ),
    ${auditAppendCtes({ actor: p.principal, action: "payout.created", subject: p.id, details })},
    ${event.cte}
    SELECT ${PAYOUT_COLUMNS} ${limitCheck === undefined ? sql.fragment`` : sql.fragment`, ${limitCheck} AS limit_set`}
    FROM o JOIN p ON p.id = o.id`);
}

/** One payout, or null. */
export async function findPayout(db: CommonQueryMethods, id: string): Promise<PayoutRow | null> {
  return db.maybeOne(sql.type(PayoutRow)`${PAYOUT_SELECT} WHERE o.id = ${id}`);
}

/**
 * Locks a payout's operation row (either payout kind) until the transaction ends and returns
 * the payout; throws payout.not_found.
 */
export async function lockPayout(tx: CommonQueryMethods, id: string): Promise<PayoutRow> {
  await tx.query(sql.unsafe`
    SELECT 1 FROM operations WHERE id = ${id} AND kind = ANY(${sql.array([...PAYOUT_KINDS], "text")})
    FOR UPDATE`);
  const payout = await findPayout(tx, id);
  if (!payout)
    throw new AppError("payout.not_found", "no payout with that id", { metadata: { field: "id" } });
  return payout;
}

/** The attempts of the given payouts, oldest first. */
export async function attemptsOf(
  db: CommonQueryMethods,
  ids: readonly string[],
): Promise<PayoutAttemptRow[]> {
  if (ids.length === 0) return [];
  const rows = await db.any(sql.type(PayoutAttemptRow)`
    SELECT operation_id, tx_id, state, expiration, broadcast_count, block_number, fee_limit, last_broadcast_error, signed_at
    FROM attempts WHERE operation_id = ANY(${sql.array([...ids], "text")}) ORDER BY operation_id, attempt_no`);
  return [...rows];
}

/** Payouts the periodic reconcile job re-checks: in flight, or confirmed within `recentMs`. */
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

/**
 * Records that payout `payoutId` used the compliance approval `digest`; false when a payout
 * already did (the primary key on the digest holds across transactions and replicas).
 */
export async function insertComplianceApproval(
  tx: CommonQueryMethods,
  a: { digest: Uint8Array; keyId: string; payoutId: string; expiresAt: number },
): Promise<boolean> {
  const inserted = await tx.maybeOneFirst(sql.type(z.object({ ok: z.number() }))`
    INSERT INTO compliance_approvals (digest, key_id, payout_id, expires_at)
    VALUES (${sql.binary(Buffer.from(a.digest))}, ${a.keyId}, ${a.payoutId},
            ${sql.timestamp(new Date(a.expiresAt))})
    ON CONFLICT (digest) DO NOTHING
    RETURNING 1 AS ok`);
  return inserted !== null;
}
