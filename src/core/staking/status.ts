import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { DatabasePool } from "slonik";
import {
  type AccountResources,
  AccountResourcesSchema,
  Resource,
} from "../../gen/tronpay/v1/common_pb.js";
import {
  type Delegation as DelegationProto,
  DelegationSchema,
  type EnergyTopUp,
  EnergyTopUpOutcome,
  type EnergyTopUpPolicy,
  EnergyTopUpPolicySchema,
  EnergyTopUpSchema,
  type GetStakingStatusResponse,
  GetStakingStatusResponseSchema,
} from "../../gen/tronpay/v1/staking_pb.js";
import { formatAmount } from "../../shared/money.js";
import type { Balances, Chain, Delegation, StakingState } from "../chain/types.js";
import type { WalletRow } from "../wallets/repo.js";
import { planEnergy } from "./plan.js";
import { recentEnergyUse } from "./repo.js";
import type { TopUpSettings } from "./topup.js";
import { latestTopUps, policyWallet, type TopUpRow } from "./topup-repo.js";

/** How far back the energy planner looks at payouts. */
export const PLAN_LOOKBACK_MS = 7 * 86_400_000;

/** An account's resources in proto terms, from its balances and Stake 2.0 figures. */
export function resourcesToProto(b: Balances, s: StakingState): AccountResources {
  const staked = (r: "BANDWIDTH" | "ENERGY") => formatAmount(s.frozen[r] + s.delegatedOut[r]);
  return create(AccountResourcesSchema, {
    freeBandwidthLimit: b.bandwidth.freeLimit,
    freeBandwidthUsed: b.bandwidth.freeUsed,
    stakedBandwidthLimit: b.bandwidth.stakedLimit,
    stakedBandwidthUsed: b.bandwidth.stakedUsed,
    energyLimit: b.energy.limit,
    energyUsed: b.energy.used,
    stakedForBandwidth: staked("BANDWIDTH"),
    stakedForEnergy: staked("ENERGY"),
    delegatedOutBandwidth: formatAmount(s.delegatedOut.BANDWIDTH),
    delegatedOutEnergy: formatAmount(s.delegatedOut.ENERGY),
    delegatedInBandwidth: formatAmount(s.acquired.BANDWIDTH),
    delegatedInEnergy: formatAmount(s.acquired.ENERGY),
  });
}

function delegationToProto(d: Delegation, counterparty: string): DelegationProto {
  return create(DelegationSchema, {
    counterpartyAddress: counterparty,
    resource: Resource[d.resource],
    amount: formatAmount(d.amount),
    lockedUntil: d.lockedUntil === undefined ? undefined : timestampFromMs(d.lockedUntil),
  });
}

/**
 * A wallet's staking picture read from the chain now, with an energy plan computed from the
 * energy its confirmed payouts recorded over the lookback.
 */
export async function stakingStatus(
  pool: DatabasePool,
  chain: Chain,
  wallet: WalletRow,
  topUp?: TopUpSettings,
): Promise<GetStakingStatusResponse> {
  const [state, balances, delegations, head, params] = await Promise.all([
    chain.stakingState(wallet.address),
    chain.balances(wallet.address),
    chain.delegations(wallet.address),
    chain.head(),
    chain.chainParameters(),
  ]);
  const used = await recentEnergyUse(pool, wallet.id, PLAN_LOOKBACK_MS, params.energyFeeSun);
  const plan = planEnergy(used, PLAN_LOOKBACK_MS, {
    stakedDailyEnergy: balances.energy.limit,
    totalEnergyLimit: state.totalEnergyLimit,
    totalEnergyWeight: state.totalEnergyWeight,
    energyFeeSun: params.energyFeeSun,
  });
  const expired = state.unfreezes.filter((u) => u.expireTime <= head.timestamp);
  return create(GetStakingStatusResponseSchema, {
    walletId: wallet.id,
    address: wallet.address,
    staked: (["BANDWIDTH", "ENERGY"] as const).map((r) => ({
      resource: Resource[r],
      amount: formatAmount(state.frozen[r] + state.delegatedOut[r]),
    })),
    pendingUnfreezes: state.unfreezes
      .filter((u) => u.expireTime > head.timestamp)
      .map((u) => ({
        resource: Resource[u.resource],
        amount: formatAmount(u.amount),
        availableAt: timestampFromMs(u.expireTime),
      })),
    withdrawable: formatAmount(expired.reduce((sum, u) => sum + u.amount, 0n)),
    delegationsOut: delegations.out.map((d) => delegationToProto(d, d.to)),
    delegationsIn: delegations.in.map((d) => delegationToProto(d, d.from)),
    plan: {
      lookback: durationFromMs(plan.lookbackMs),
      estimatedDailyEnergy: plan.estimatedDailyEnergy,
      stakedDailyEnergy: plan.stakedDailyEnergy,
      trxBurnedPerDay: formatAmount(plan.burnedPerDaySun),
      trxToStake: formatAmount(plan.trxToStakeSun),
      savingsPerDay: formatAmount(plan.savingsPerDaySun),
    },
    blockNumber: head.number,
    energyTopUp: await topUpPolicy(pool, topUp),
  });
}

/** The energy top-up policy's settings and its latest decisions for its payout wallet. */
async function topUpPolicy(
  pool: DatabasePool,
  settings: TopUpSettings | undefined,
): Promise<EnergyTopUpPolicy> {
  if (!settings) return create(EnergyTopUpPolicySchema, { enabled: false });
  const payout = await policyWallet(pool, settings.payoutWalletId);
  const latest = payout ? await latestTopUps(pool, payout.id) : undefined;
  return create(EnergyTopUpPolicySchema, {
    enabled: true,
    stakingWalletId: settings.stakingWalletId,
    payoutWalletId: payout?.id ?? settings.payoutWalletId,
    maxDelegation: formatAmount(settings.maxSun),
    cooldown: durationFromMs(settings.cooldownMs),
    lastTopUp: latest?.delegation ? topUpToProto(latest.delegation) : undefined,
    lastDecision: latest?.decision ? topUpToProto(latest.decision) : undefined,
  });
}

function topUpToProto(row: TopUpRow): EnergyTopUp {
  return create(EnergyTopUpSchema, {
    batchId: row.batch_id,
    outcome: EnergyTopUpOutcome[row.state as keyof typeof EnergyTopUpOutcome],
    operationId: row.operation_id ?? "",
    estimatedEnergy: row.estimated_energy ?? 0n,
    availableEnergy: row.available_energy ?? 0n,
    amount: formatAmount(row.amount),
    decidedAt: timestampFromMs(row.decided_at),
  });
}
