import type { Account, StakeResource, Usage } from "./state.js";

/**
 * Bandwidth and energy accounting.
 *
 * Simplification (documented for tronpay's developers): java-tron shares a fixed network
 * limit among all stakers (limit = staked / TotalWeight × TotalLimit, so one TRX yields
 * less as more is staked). The devnet gives each staked TRX a fixed amount per day
 * (`energyPerTrx`, `netPerTrx`) and reports TotalWeight/TotalLimit so that java-tron's formula
 * yields exactly that rate. Usage recovers linearly over 24 h, as in java-tron.
 */

/** The parameters fees depend on (from the devnet config). */
export interface FeeParams {
  readonly freeNetLimit: bigint;
  readonly netPerTrx: bigint;
  readonly energyPerTrx: bigint;
  readonly bandwidthPriceSun: bigint;
  readonly energyPriceSun: bigint;
  readonly createAccountBandwidthFeeSun: bigint;
}

/** java-tron's resource window: usage recovers fully in 24 h. */
export const WINDOW_MS = 86_400_000;
const SUN_PER_TRX = 1_000_000n;

/** Thrown when an account can pay neither with resources nor with its balance. */
export class BandwidthError extends Error {}

/** The usage left of `u` at `now` after linear recovery. */
export function usageAt(u: Usage, now: number): bigint {
  const elapsed = now - u.time;
  if (u.used === 0n || elapsed >= WINDOW_MS) return 0n;
  if (elapsed <= 0) return u.used;
  return (u.used * BigInt(WINDOW_MS - elapsed)) / BigInt(WINDOW_MS);
}

/** The daily amount of `r` an account's own and acquired stake yields. */
export function stakedLimit(a: Account, r: StakeResource, p: FeeParams): bigint {
  const perTrx = r === "ENERGY" ? p.energyPerTrx : p.netPerTrx;
  return ((a.frozen[r] + a.acquired[r]) * perTrx) / SUN_PER_TRX;
}

/** What paying for a transaction's bytes cost and the account afterwards. */
export interface BandwidthCharge {
  readonly account: Account;
  /** Bytes paid with staked or free bandwidth. */
  readonly netUsage: bigint;
  /** Sun burned. */
  readonly netFee: bigint;
}

/**
 * Charges `bytes` of bandwidth, in java-tron's order: staked bandwidth if it covers all bytes,
 * else free bandwidth if it does, else burn bytes × price. A transfer creating an account
 * uses staked bandwidth or burns the fixed create-account fee instead (no free bandwidth).
 * Throws BandwidthError when the balance cannot pay.
 */
export function chargeBandwidth(
  a: Account,
  bytes: bigint,
  now: number,
  p: FeeParams,
  createsAccount: boolean,
): BandwidthCharge {
  const netUsed = usageAt(a.net, now);
  if (stakedLimit(a, "BANDWIDTH", p) - netUsed >= bytes) {
    return {
      account: { ...a, net: { used: netUsed + bytes, time: now } },
      netUsage: bytes,
      netFee: 0n,
    };
  }
  if (!createsAccount) {
    const freeUsed = usageAt(a.freeNet, now);
    if (p.freeNetLimit - freeUsed >= bytes) {
      return {
        account: { ...a, freeNet: { used: freeUsed + bytes, time: now } },
        netUsage: bytes,
        netFee: 0n,
      };
    }
  }
  const fee = createsAccount ? p.createAccountBandwidthFeeSun : bytes * p.bandwidthPriceSun;
  if (a.balance < fee) {
    throw new BandwidthError(
      createsAccount
        ? "account has insufficient bandwidth and balance to create new account"
        : "Account resource insufficient error.",
    );
  }
  return { account: { ...a, balance: a.balance - fee }, netUsage: 0n, netFee: fee };
}

/** The outcome of paying for a contract call's energy. */
export interface EnergyCharge {
  readonly account: Account;
  /** Energy taken from stake. */
  readonly energyUsage: bigint;
  /** Sun burned for energy. */
  readonly energyFee: bigint;
  readonly energyUsageTotal: bigint;
  /** True when `required` exceeds what stake, balance and fee_limit allow. */
  readonly outOfEnergy: boolean;
}

/**
 * Pays `required` energy: staked energy first, then burned at the energy price. As in
 * java-tron (VMActuator.getAccountEnergyLimitWithFixRatio), a call may use at most
 * min(staked left + balance / price, fee_limit / price) energy: fee_limit caps the whole
 * energy, staked energy included. A call that needs more runs out of energy and consumes
 * that whole limit.
 */
export function chargeEnergy(
  a: Account,
  required: bigint,
  feeLimit: bigint,
  now: number,
  p: FeeParams,
): EnergyCharge {
  const used = usageAt(a.energy, now);
  const stakedLeft = maxBig(stakedLimit(a, "ENERGY", p) - used, 0n);
  const limit = minBig(stakedLeft + a.balance / p.energyPriceSun, feeLimit / p.energyPriceSun);
  const outOfEnergy = required > limit;
  const total = outOfEnergy ? limit : required;
  const fromStake = minBig(total, stakedLeft);
  const energyFee = (total - fromStake) * p.energyPriceSun;
  const account: Account = {
    ...a,
    balance: a.balance - energyFee,
    energy: fromStake > 0n ? { used: used + fromStake, time: now } : a.energy,
  };
  return { account, energyUsage: fromStake, energyFee, energyUsageTotal: total, outOfEnergy };
}

/** Size java-tron charges for: the signed transaction's bytes plus 64 per contract. */
export function bandwidthBytes(rawLength: number, signatureLengths: readonly number[]): bigint {
  let size = fieldSize(rawLength);
  for (const len of signatureLengths) size += fieldSize(len);
  return BigInt(size + 64);
}

function fieldSize(len: number): number {
  let varint = 1;
  for (let v = len; v >= 0x80; v >>>= 7) varint++;
  return 1 + varint + len;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
