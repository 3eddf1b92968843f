import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

/** What the policy decided for a batch; PENDING until decided. */
export type TopUpState =
  | "PENDING"
  | "DELEGATED"
  | "NO_SHORTFALL"
  | "COOLDOWN"
  | "NO_STAKE"
  | "CHAIN_ERROR";

/**
 * The only moves of a decision: a PENDING batch is decided once, and a decision is final (a
 * batch gets one row, ever; topup.ts).
 */
export const TOPUP_TRANSITIONS: Readonly<Record<TopUpState, readonly TopUpState[]>> = {
  PENDING: ["DELEGATED", "NO_SHORTFALL", "COOLDOWN", "NO_STAKE", "CHAIN_ERROR"],
  DELEGATED: [],
  NO_SHORTFALL: [],
  COOLDOWN: [],
  NO_STAKE: [],
  CHAIN_ERROR: [],
};

/** Throws unless a decision may go from → to (a bug if it fires). */
export function assertTopUpTransition(from: TopUpState, to: TopUpState): void {
  if (!TOPUP_TRANSITIONS[from].includes(to))
    throw new Error(`an energy top-up cannot go from ${from} to ${to}`);
}

const Wallet = z.object({ id: z.string(), address: z.string() });
export type PolicyWallet = z.infer<typeof Wallet>;

/** A wallet by id, or with an empty id the first PAYOUT-purpose wallet created; or null. */
export async function policyWallet(
  db: CommonQueryMethods,
  id: string,
): Promise<PolicyWallet | null> {
  if (id !== "")
    return db.maybeOne(sql.type(Wallet)`SELECT id, address FROM wallets WHERE id = ${id}`);
  return db.maybeOne(sql.type(Wallet)`
    SELECT id, address FROM wallets WHERE purpose = 'PAYOUT' ORDER BY created_at, id LIMIT 1`);
}

/** The batch a payout belongs to, or null for a single payout. */
export async function batchOf(db: CommonQueryMethods, payoutId: string): Promise<string | null> {
  const row = await db.maybeOne(sql.type(z.object({ batch_id: z.string().nullable() }))`
    SELECT batch_id FROM payouts WHERE id = ${payoutId}`);
  return row?.batch_id ?? null;
}

/** Creates the batch's PENDING decision unless it exists: one row per batch, ever. */
export async function ensureTopUp(
  db: CommonQueryMethods,
  batchId: string,
  walletId: string,
  stakingWalletId: string,
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO energy_topups (batch_id, wallet_id, staking_wallet_id)
    VALUES (${batchId}, ${walletId}, ${stakingWalletId})
    ON CONFLICT (batch_id) DO NOTHING`);
}

const Gate = z.object({
  state: z.string() as unknown as z.ZodType<TopUpState>,
  operation_state: z.string().nullable(),
  waited_out: z.boolean(),
});

/** The batch's decision, its delegation's state, and whether the batch has waited long enough. */
export async function topUpGate(
  db: CommonQueryMethods,
  batchId: string,
  waitMs: number,
): Promise<z.infer<typeof Gate>> {
  return db.one(sql.type(Gate)`
    SELECT t.state, o.state AS operation_state,
           t.created_at + ${waitMs} * interval '1 millisecond' <= now() AS waited_out
    FROM energy_topups t LEFT JOIN operations o ON o.id = t.operation_id
    WHERE t.batch_id = ${batchId}`);
}

/** Takes the right to decide a PENDING batch for `leaseMs`; false when another process has it. */
export async function claimTopUp(
  db: CommonQueryMethods,
  batchId: string,
  leaseMs: number,
): Promise<boolean> {
  const result = await db.query(sql.unsafe`
    UPDATE energy_topups SET claimed_until = now() + ${leaseMs} * interval '1 millisecond'
    WHERE batch_id = ${batchId} AND state = 'PENDING' AND (claimed_until IS NULL OR claimed_until < now())`);
  return result.rowCount === 1;
}

/** Gives a claim back (the decision failed) so that the next look may try again at once. */
export async function releaseTopUp(db: CommonQueryMethods, batchId: string): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE energy_topups SET claimed_until = NULL WHERE batch_id = ${batchId} AND state = 'PENDING'`);
}

/** What a decision records. */
export interface TopUpDecision {
  state: Exclude<TopUpState, "PENDING">;
  operationId: string | null;
  estimatedEnergy: bigint | null;
  availableEnergy: bigint | null;
  amountSun: bigint;
}

/** Records the decision of a PENDING batch; false when it was decided already (nothing written). */
export async function decideTopUp(
  tx: CommonQueryMethods,
  batchId: string,
  d: TopUpDecision,
): Promise<boolean> {
  assertTopUpTransition("PENDING", d.state);
  const result = await tx.query(sql.unsafe`
    UPDATE energy_topups SET state = ${d.state}, operation_id = ${d.operationId},
      estimated_energy = ${d.estimatedEnergy}, available_energy = ${d.availableEnergy},
      amount = ${d.amountSun}, decided_at = now(), claimed_until = NULL
    WHERE batch_id = ${batchId} AND state = 'PENDING'`);
  return result.rowCount === 1;
}

/** Serializes decisions for one payout wallet until the transaction ends (for the cooldown). */
export async function lockWalletTopUps(tx: CommonQueryMethods, walletId: string): Promise<void> {
  await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock(hashtext(${`energy_topup:${walletId}`}))`);
}

/** Whether the payout wallet had a delegation decided within the last `cooldownMs`. */
export async function inCooldown(
  db: CommonQueryMethods,
  walletId: string,
  cooldownMs: number,
): Promise<boolean> {
  if (cooldownMs <= 0) return false;
  return db.exists(sql.unsafe`
    SELECT 1 FROM energy_topups
    WHERE wallet_id = ${walletId} AND state = 'DELEGATED'
      AND decided_at > now() - ${cooldownMs} * interval '1 millisecond'`);
}

const Item = z.object({ to: z.string(), amount: z.bigint() });

/** The batch's USDT transfers from the wallet that are not signed yet. */
export async function unsignedUsdtItems(
  db: CommonQueryMethods,
  batchId: string,
  walletId: string,
): Promise<z.infer<typeof Item>[]> {
  const rows = await db.any(sql.type(Item)`
    SELECT o.counterparty_address AS "to", o.amount FROM operations o JOIN payouts p ON p.id = o.id
    WHERE p.batch_id = ${batchId} AND o.wallet_id = ${walletId} AND o.asset = 'USDT'
      AND o.state IN ('QUEUED', 'HELD', 'AWAITING_APPROVAL')`);
  return [...rows];
}

/** Energy stake the wallet has promised in DELEGATE operations not on chain yet (sun). */
export async function delegationsInFlight(
  db: CommonQueryMethods,
  walletId: string,
): Promise<bigint> {
  return db.oneFirst(sql.type(z.object({ sum: z.bigint() }))`
    SELECT COALESCE(sum(amount), 0)::bigint AS sum FROM operations
    WHERE wallet_id = ${walletId} AND kind = 'DELEGATE' AND resource = 'ENERGY'
      AND state IN ('QUEUED', 'HELD', 'SIGNED', 'BROADCAST')`);
}

export const TopUpRow = z.object({
  batch_id: z.string(),
  state: z.string() as unknown as z.ZodType<TopUpState>,
  operation_id: z.string().nullable(),
  estimated_energy: z.bigint().nullable(),
  available_energy: z.bigint().nullable(),
  amount: z.bigint(),
  decided_at: z.number(),
});
export type TopUpRow = z.infer<typeof TopUpRow>;

/** The payout wallet's latest decision, and its latest delegation. */
export async function latestTopUps(
  db: CommonQueryMethods,
  walletId: string,
): Promise<{ decision: TopUpRow | null; delegation: TopUpRow | null }> {
  const latest = (onlyDelegated: boolean) =>
    db.maybeOne(sql.type(TopUpRow)`
      SELECT batch_id, state, operation_id, estimated_energy, available_energy, amount, decided_at
      FROM energy_topups
      WHERE wallet_id = ${walletId} AND state <> 'PENDING' AND (${!onlyDelegated} OR state = 'DELEGATED')
      ORDER BY decided_at DESC LIMIT 1`);
  const [decision, delegation] = await Promise.all([latest(false), latest(true)]);
  return { decision, delegation };
}
