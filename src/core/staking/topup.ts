import type { DatabasePool } from "slonik";
import { reasonOf } from "../../shared/errors.js";
import type { Logger } from "../../shared/log.js";
import { formatAmount, parsePositiveAmount } from "../../shared/money.js";
import type { CoreConfig } from "../app/config.js";
import type { Chain } from "../chain/types.js";
import type { OperationRow } from "../engine/repo.js";
import { appendAudit } from "../kernel/audit.js";
import { emitEvent } from "../kernel/outbox.js";
import { insertOperation } from "../operations/repo.js";
import { topUpDelegation } from "./plan.js";
import {
  batchOf,
  claimTopUp,
  decideTopUp,
  delegationsInFlight,
  ensureTopUp,
  inCooldown,
  lockWalletTopUps,
  type PolicyWallet,
  policyWallet,
  releaseTopUp,
  type TopUpDecision,
  topUpGate,
  unsignedUsdtItems,
} from "./topup-repo.js";

/** The energy top-up policy's settings (core config); off when stakingWalletId is empty. */
export interface TopUpSettings {
  stakingWalletId: string;
  /** Empty: the first PAYOUT-purpose wallet created. */
  payoutWalletId: string;
  maxSun: bigint;
  cooldownMs: number;
  /** How long a batch's transfers wait for the decision and its delegation. */
  waitMs: number;
}

/** The policy's settings from core's config; undefined when it is off. Throws on a bad value. */
export function topUpSettingsOf(config: CoreConfig): TopUpSettings | undefined {
  if (config.energyTopUpStakingWallet === "") return undefined;
  if (config.energyTopUpStakingWallet === config.energyTopUpPayoutWallet)
    throw new Error("energyTopUpStakingWallet and energyTopUpPayoutWallet must differ");
  return {
    stakingWalletId: config.energyTopUpStakingWallet,
    payoutWalletId: config.energyTopUpPayoutWallet,
    maxSun: parsePositiveAmount(config.energyTopUpMaxTrx, "energyTopUpMaxTrx"),
    cooldownMs: config.energyTopUpCooldownSec * 1000,
    waitMs: config.energyTopUpWaitSec * 1000,
  };
}

export interface TopUpDeps {
  pool: DatabasePool;
  chain: Chain;
  log: Logger;
  settings: TopUpSettings;
  /** How long one process may take to decide before another may (ms). */
  leaseMs: number;
}

/** The actor of the policy's audit rows and operations. */
export const TOPUP_ACTOR = "system:energy-policy";
// How soon a waiting transfer looks again.
const RECHECK_MS = 1_000;
// Node calls at once while estimating a batch.
const ESTIMATE_CONCURRENCY = 8;
const LIVE = ["QUEUED", "SIGNED", "BROADCAST"];

/**
 * The policy as the engine sees it: before a batch's USDT transfer from the payout wallet is
 * signed, the batch's one decision is made (once, whichever process gets there first) and the
 * transfer waits while the delegation it created is on its way, at most `waitMs` after the
 * batch first reached the engine. Returns ms to wait, or undefined to sign now. It never holds a
 * payout for good: a held or failed delegation, or no decision in time, lets it pay by burning.
 */
export function createEnergyTopUp(
  deps: TopUpDeps,
): (op: OperationRow) => Promise<number | undefined> {
  const { pool, settings } = deps;
  let wallets: { payout: PolicyWallet; staking: PolicyWallet } | undefined;
  let warned = false;
  const resolve = async () => {
    if (wallets) return wallets;
    const [payout, staking] = await Promise.all([
      policyWallet(pool, settings.payoutWalletId),
      policyWallet(pool, settings.stakingWalletId),
    ]);
    if (payout && staking && payout.id !== staking.id) {
      wallets = { payout, staking };
      return wallets;
    }
    if (!warned) {
      warned = true;
      deps.log.warn(
        { stakingWalletId: settings.stakingWalletId, payoutWalletId: settings.payoutWalletId },
        "energy top-up policy inactive: its wallets are unknown or the same",
      );
    }
    return undefined;
  };

  return async (op) => {
    if (op.kind !== "PAYOUT" || op.asset !== "USDT") return undefined;
    const w = await resolve();
    if (!w || op.wallet_id !== w.payout.id) return undefined;
    const batchId = await batchOf(pool, op.id);
    if (!batchId) return undefined;
    await ensureTopUp(pool, batchId, w.payout.id, w.staking.id);
    const gate = await topUpGate(pool, batchId, settings.waitMs);
    if (gate.state === "PENDING") {
      if (await claimTopUp(pool, batchId, deps.leaseMs)) {
        try {
          await decide(deps, batchId, w);
        } catch (err) {
          deps.log.warn(
            { batchId, reason: reasonOf(err), err: String(err) },
            "energy top-up not decided",
          );
          if (gate.waited_out) await record(deps, batchId, w, emptyDecision("CHAIN_ERROR"));
          else await releaseTopUp(pool, batchId);
        }
      }
      // Look again: the decision may have made a delegation worth waiting for.
      return gate.waited_out ? undefined : RECHECK_MS;
    }
    const waiting = gate.state === "DELEGATED" && LIVE.includes(gate.operation_state ?? "");
    return waiting && !gate.waited_out ? RECHECK_MS : undefined;
  };
}

/** Reads the chain, computes the shortfall and records one decision for the batch. */
async function decide(
  deps: TopUpDeps,
  batchId: string,
  w: { payout: PolicyWallet; staking: PolicyWallet },
): Promise<void> {
  const { pool, chain } = deps;
  const items = await unsignedUsdtItems(pool, batchId, w.payout.id);
  const [estimatedEnergy, balances, staking, promised] = await Promise.all([
    estimateEnergy(chain, w.payout.address, items),
    chain.balances(w.payout.address),
    chain.stakingState(w.staking.address),
    delegationsInFlight(pool, w.staking.id),
  ]);
  const left = balances.energy.limit - balances.energy.used;
  const availableEnergy = left > 0n ? left : 0n;
  const lendable = staking.frozen.ENERGY - promised;
  const plan = topUpDelegation({
    estimatedEnergy,
    availableEnergy,
    totalEnergyLimit: staking.totalEnergyLimit,
    totalEnergyWeight: staking.totalEnergyWeight,
    lendableSun: lendable > 0n ? lendable : 0n,
    maxSun: deps.settings.maxSun,
  });
  const figures = { estimatedEnergy, availableEnergy };
  if (plan.shortfall === 0n)
    return record(deps, batchId, w, { ...emptyDecision("NO_SHORTFALL"), ...figures });
  if (plan.amountSun === 0n)
    return record(deps, batchId, w, { ...emptyDecision("NO_STAKE"), ...figures });
  return record(deps, batchId, w, {
    ...emptyDecision("DELEGATED"),
    ...figures,
    amountSun: plan.amountSun,
  });
}

/**
 * Stores the decision with its audit row and event, and for DELEGATED the one DELEGATE
 * operation, in one transaction; nothing is written when the batch was decided already. A
 * delegation inside the cooldown is recorded as COOLDOWN instead.
 */
async function record(
  deps: TopUpDeps,
  batchId: string,
  w: { payout: PolicyWallet; staking: PolicyWallet },
  wanted: TopUpDecision,
): Promise<void> {
  const decision = await deps.pool
    .transaction(async (tx) => {
      await lockWalletTopUps(tx, w.payout.id);
      let d = wanted;
      if (d.state === "DELEGATED" && (await inCooldown(tx, w.payout.id, deps.settings.cooldownMs)))
        d = { ...d, state: "COOLDOWN", amountSun: 0n };
      if (d.state === "DELEGATED") {
        const op = await insertOperation(tx, {
          kind: "DELEGATE",
          asset: "TRX",
          amount: d.amountSun,
          walletId: w.staking.id,
          ownerAddress: w.staking.address,
          counterpartyAddress: w.payout.address,
          resource: "ENERGY",
          lockPeriodBlocks: 0n,
          principal: TOPUP_ACTOR,
        });
        d = { ...d, operationId: op.id };
      }
      // Decided by another process meanwhile: roll back (the operation above included).
      if (!(await decideTopUp(tx, batchId, d))) throw new AlreadyDecided();
      const details = {
        outcome: d.state,
        walletId: w.payout.id,
        stakingWalletId: w.staking.id,
        operationId: d.operationId,
        estimatedEnergy: d.estimatedEnergy?.toString() ?? null,
        availableEnergy: d.availableEnergy?.toString() ?? null,
        amount: formatAmount(d.amountSun),
      };
      await appendAudit(tx, {
        actor: TOPUP_ACTOR,
        action: "energy.topup",
        subject: batchId,
        details,
      });
      await emitEvent(tx, {
        type: d.state === "DELEGATED" ? "energy.topup_delegated" : "energy.topup_skipped",
        subjectId: batchId,
        payload: { batchId, ...details },
      });
      return d;
    })
    .catch((err: unknown) => {
      if (err instanceof AlreadyDecided) return undefined;
      throw err;
    });
  if (!decision) return;
  const fields = { batchId, outcome: decision.state, amount: formatAmount(decision.amountSun) };
  if (decision.state === "NO_STAKE" || decision.state === "CHAIN_ERROR")
    deps.log.warn(fields, "energy top-up skipped; the batch burns TRX for energy");
  else deps.log.info({ ...fields, operationId: decision.operationId }, "energy top-up decided");
}

class AlreadyDecided extends Error {}

function emptyDecision(state: TopUpDecision["state"]): TopUpDecision {
  return { state, operationId: null, estimatedEnergy: null, availableEnergy: null, amountSun: 0n };
}

/**
 * The energy of the transfers from the node's estimate, once per recipient (a recipient's
 * second transfer is counted at the first one's estimate, which can only overstate it).
 */
async function estimateEnergy(
  chain: Chain,
  from: string,
  items: { to: string; amount: bigint }[],
): Promise<bigint> {
  const first = new Map<string, bigint>();
  for (const item of items) if (!first.has(item.to)) first.set(item.to, item.amount);
  const recipients = [...first.entries()];
  const perRecipient = new Map<string, bigint>();
  for (let i = 0; i < recipients.length; i += ESTIMATE_CONCURRENCY) {
    const slice = recipients.slice(i, i + ESTIMATE_CONCURRENCY);
    const estimates = await Promise.all(
      slice.map(([to, amount]) => chain.estimateUsdtTransfer(from, to, amount)),
    );
    for (const [j, [to]] of slice.entries()) perRecipient.set(to, estimates[j]?.energy ?? 0n);
  }
  return items.reduce((sum, item) => sum + (perRecipient.get(item.to) ?? 0n), 0n);
}
