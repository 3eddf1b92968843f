import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { PAYING_KINDS } from "../operations/kinds.js";

/** What staking reads of the operations table: counts and sums over a wallet's operations. */

/** Unstake operations of a wallet that are not on chain yet. */
export async function queuedUnstakes(db: CommonQueryMethods, walletId: string): Promise<number> {
  return db.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM operations
    WHERE wallet_id = ${walletId} AND kind = 'UNSTAKE' AND state IN ('QUEUED', 'HELD', 'SIGNED', 'BROADCAST')`);
}

/**
 * Energy the wallet's confirmed payouts and USDT transfers used over the lookback, and the sun
 * burned for it: per operation at most its fee and at most its energy at today's price, since
 * part of the energy may have come from stake.
 */
export async function recentEnergyUse(
  db: CommonQueryMethods,
  walletId: string,
  lookbackMs: number,
  energyFeeSun: bigint,
): Promise<{ energy: bigint; burned: bigint }> {
  return db.one(sql.type(z.object({ energy: z.bigint(), burned: z.bigint() }))`
    SELECT COALESCE(sum(energy_used), 0)::bigint AS energy,
           COALESCE(sum(LEAST(fee_sun, energy_used * ${energyFeeSun})), 0)::bigint AS burned
    FROM operations
    WHERE wallet_id = ${walletId} AND kind = ANY(${sql.array([...PAYING_KINDS], "text")}) AND state = 'CONFIRMED'
      AND confirmed_at >= now() - ${lookbackMs} * interval '1 millisecond'`);
}
