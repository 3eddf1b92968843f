import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { PAYING_KINDS } from "../operations/kinds.js";

const DAY_MS = 86_400_000;
const SUN_PER_TRX = 1_000_000n;

/** What the plan is computed from: recorded payouts and the chain's figures now. */
export interface PlanInputs {
  /** Energy the wallet's own stake and incoming delegations give per day. */
  stakedDailyEnergy: bigint;
  /** Network energy per day and total staked TRX weight (energy per TRX = limit / weight). */
  totalEnergyLimit: bigint;
  totalEnergyWeight: bigint;
  /** Sun per energy unit (getEnergyFee). */
  energyFeeSun: bigint;
}

/** The plan in base units (sun) and energy units. */
export interface EnergyPlan {
  lookbackMs: number;
  estimatedDailyEnergy: bigint;
  stakedDailyEnergy: bigint;
  burnedPerDaySun: bigint;
  trxToStakeSun: bigint;
  savingsPerDaySun: bigint;
}

const Usage = z.object({ energy: z.bigint(), burned: z.bigint() });

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
  return db.one(sql.type(Usage)`
    SELECT COALESCE(sum(energy_used), 0)::bigint AS energy,
           COALESCE(sum(LEAST(fee_sun, energy_used * ${energyFeeSun})), 0)::bigint AS burned
    FROM operations
    WHERE wallet_id = ${walletId} AND kind = ANY(${sql.array([...PAYING_KINDS], "text")}) AND state = 'CONFIRMED'
      AND confirmed_at >= now() - ${lookbackMs} * interval '1 millisecond'`);
}

/**
 * Compares the average daily energy need with what staking gives now: the TRX to stake so that
 * the need is covered (rounded up to whole sun) and the burn it would save per day.
 */
export function planEnergy(
  used: { energy: bigint; burned: bigint },
  lookbackMs: number,
  chain: PlanInputs,
): EnergyPlan {
  const days = BigInt(Math.max(1, Math.round(lookbackMs / DAY_MS)));
  const need = ceilDiv(used.energy, days);
  const burnedPerDay = used.burned / days;
  const gap = need > chain.stakedDailyEnergy ? need - chain.stakedDailyEnergy : 0n;
  const trxToStake =
    gap === 0n || chain.totalEnergyLimit === 0n
      ? 0n
      : ceilDiv(gap * chain.totalEnergyWeight * SUN_PER_TRX, chain.totalEnergyLimit);
  const gapCost = gap * chain.energyFeeSun;
  return {
    lookbackMs,
    estimatedDailyEnergy: need,
    stakedDailyEnergy: chain.stakedDailyEnergy,
    burnedPerDaySun: burnedPerDay,
    trxToStakeSun: trxToStake,
    savingsPerDaySun: gapCost < burnedPerDay ? gapCost : burnedPerDay,
  };
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/** What an energy top-up is computed from (energy units and sun). */
export interface TopUpInputs {
  /** Energy the batch's unsigned USDT transfers are estimated to need. */
  estimatedEnergy: bigint;
  /** Energy the payout wallet has left now. */
  availableEnergy: bigint;
  /** Network energy per day and total staked TRX weight (energy per TRX = limit / weight). */
  totalEnergyLimit: bigint;
  totalEnergyWeight: bigint;
  /** Staked energy the staking wallet can still lend (sun). */
  lendableSun: bigint;
  /** Most one top-up may delegate (sun). */
  maxSun: bigint;
}

/**
 * The energy a batch lacks and the TRX to delegate for it: rounded up to whole TRX (the chain
 * delegates at least 1 TRX), then capped by what may and can be lent; 0 when under 1 TRX.
 */
export function topUpDelegation(i: TopUpInputs): { shortfall: bigint; amountSun: bigint } {
  const shortfall =
    i.estimatedEnergy > i.availableEnergy ? i.estimatedEnergy - i.availableEnergy : 0n;
  if (shortfall === 0n || i.totalEnergyLimit <= 0n) return { shortfall, amountSun: 0n };
  const needSun = ceilDiv(shortfall * i.totalEnergyWeight * SUN_PER_TRX, i.totalEnergyLimit);
  const wholeTrx = ceilDiv(needSun, SUN_PER_TRX) * SUN_PER_TRX;
  let amount = wholeTrx;
  if (amount > i.maxSun) amount = i.maxSun;
  if (amount > i.lendableSun) amount = i.lendableSun;
  return { shortfall, amountSun: amount < SUN_PER_TRX ? 0n : amount };
}
