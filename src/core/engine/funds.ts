import type { Chain } from "../chain/types.js";
import { type FundCheck, KINDS } from "../operations/kinds.js";
import type { OperationRow } from "./repo.js";

// Margin of TRX kept for bandwidth and activation on a TRX transfer: 1 TRX activation fee,
// 0.1 TRX for bandwidth burned when the free allowance is used up, and a little to spare.
const TRX_TRANSFER_OVERHEAD_SUN = 1_200_000n;
// A stake contract is ~280 bytes of bandwidth: 0.3 TRX covers it once the free allowance is gone.
const STAKE_OVERHEAD_SUN = 300_000n;
// Energy of a USDT call to a recipient holding none (the worst case), rounded up.
const USDT_WORST_ENERGY = 131_000n;

/**
 * Why an operation cannot be done now (a stable hold reason), or undefined when the owner's
 * TRX, USDT, stake or delegations cover it. USDT calls need TRX for energy unless energy is
 * staked; the check uses the fee_limit as the worst case.
 */
export async function holdReasonFor(
  chain: Chain,
  op: OperationRow,
  feeLimitSun: bigint,
): Promise<string | undefined> {
  const funds = KINDS[op.kind].funds;
  switch (funds.check) {
    case "transfer":
      return transferHold(chain, op, feeLimitSun);
    case "stake":
      return stakeHold(chain, op, funds);
  }
}

async function transferHold(
  chain: Chain,
  op: OperationRow,
  feeLimitSun: bigint,
): Promise<string | undefined> {
  const balances = await chain.balances(op.owner_address);
  if (op.asset === "TRX") {
    return balances.trx < op.amount + TRX_TRANSFER_OVERHEAD_SUN
      ? "wallet.insufficient_trx"
      : undefined;
  }
  // An approve moves no USDT, so only a transfer needs the balance.
  if (op.kind !== "USDT_APPROVE" && balances.usdt < op.amount) return "wallet.insufficient_usdt";
  const energyLeft = balances.energy.limit - balances.energy.used;
  if (energyLeft < USDT_WORST_ENERGY && balances.trx < feeLimitSun)
    return "wallet.insufficient_trx_for_energy";
  return undefined;
}

async function stakeHold(
  chain: Chain,
  op: OperationRow,
  funds: Extract<FundCheck, { check: "stake" }>,
): Promise<string | undefined> {
  const s = await chain.stakingState(op.owner_address);
  if (s.balance < STAKE_OVERHEAD_SUN + (funds.spends ? op.amount : 0n))
    return "wallet.insufficient_trx";
  switch (funds.needs) {
    case "nothing":
      return undefined;
    case "frozen":
      return op.resource === null || s.frozen[op.resource] < op.amount
        ? "staking.insufficient_stake"
        : undefined;
    case "delegation": {
      const { out } = await chain.delegations(op.owner_address);
      const lent = out.find((d) => d.to === op.counterparty_address && d.resource === op.resource);
      return !lent || lent.amount < op.amount ? "staking.insufficient_delegation" : undefined;
    }
  }
}
