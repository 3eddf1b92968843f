import type { Chain, ChainParameters } from "../chain/types.js";

/** A payout to price, with addresses already resolved and amounts in base units. */
export interface QuoteInput {
  owner: string;
  recipient: string;
  asset: "TRX" | "USDT";
  amount: bigint;
  memo: string;
  /** fee_limit a USDT transfer would carry (sun). */
  feeLimitSun: bigint;
}

/** What the payout would cost now, in sun and resource units. */
export interface Quote {
  bandwidth: bigint;
  energy: bigint;
  trxToBurnSun: bigint;
  recipientNewToUsdt: boolean;
  activationNeeded: boolean;
  feeLimitSun: bigint;
}

// java-tron charges bandwidth for the transaction as stored without its result list, plus
// this many bytes per contract for the result (MAX_RESULT_SIZE_IN_TX).
const RESULT_BYTES = 64n;
const SIGNATURE_BYTES = 65;

/**
 * Prices a payout from the node alone: the real transaction is built (not signed or sent) to
 * measure its bandwidth, energy comes from the node's estimate, and fees from the chain's
 * parameters and the wallet's free and staked resources.
 */
export async function quoteFee(chain: Chain, q: QuoteInput): Promise<Quote> {
  const usdt = q.asset === "USDT";
  const [built, params, balances, exists, estimate] = await Promise.all([
    chain.buildTransfer({
      kind: usdt ? "USDT_TRANSFER" : "TRX_TRANSFER",
      owner: q.owner,
      to: q.recipient,
      amount: q.amount,
      memo: q.memo === "" ? undefined : q.memo,
      feeLimit: usdt ? q.feeLimitSun : undefined,
      lifetimeMs: 60_000,
    }),
    chain.chainParameters(),
    chain.balances(q.owner),
    usdt ? Promise.resolve(true) : chain.accountExists(q.recipient),
    usdt ? chain.estimateUsdtTransfer(q.owner, q.recipient, q.amount) : Promise.resolve(undefined),
  ]);
  const bandwidth = signedSize(built.rawData.length) + RESULT_BYTES;
  const energy = estimate?.energy ?? 0n;
  const { bandwidth: bw, energy: en } = balances;
  const stakedFree = bw.stakedLimit - bw.stakedUsed;
  const dailyFree = bw.freeLimit - bw.freeUsed;
  const activation = !usdt && !exists;
  let burn = bandwidthBurn(params, bandwidth, stakedFree, dailyFree, activation);
  const energyLeft = en.limit > en.used ? en.limit - en.used : 0n;
  if (energy > energyLeft) burn += (energy - energyLeft) * params.energyFeeSun;
  if (activation) burn += params.accountActivationFeeSun;
  if (q.memo !== "") burn += params.memoFeeSun;
  return {
    bandwidth,
    energy,
    trxToBurnSun: burn,
    recipientNewToUsdt: estimate ? !estimate.recipientHoldsUsdt : false,
    activationNeeded: activation,
    feeLimitSun: usdt ? q.feeLimitSun : 0n,
  };
}

/**
 * java-tron takes a transaction's bandwidth whole from staked bandwidth, else whole from the
 * daily free allowance, else burns it all; creating an account may use only staked bandwidth
 * and otherwise burns the fixed account-creation fee instead.
 */
function bandwidthBurn(
  p: ChainParameters,
  bytes: bigint,
  staked: bigint,
  free: bigint,
  activation: boolean,
): bigint {
  if (staked >= bytes) return 0n;
  if (activation) return p.createAccountBandwidthFeeSun;
  if (free >= bytes) return 0n;
  return bytes * p.bandwidthFeeSun;
}

/** Bytes of Transaction{raw_data = 1, signature = 2} with one 65-byte signature. */
function signedSize(rawLength: number): bigint {
  const field = (len: number) => 1 + varintSize(len) + len;
  return BigInt(field(rawLength) + field(SIGNATURE_BYTES));
}

function varintSize(n: number): number {
  let size = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return size;
}
