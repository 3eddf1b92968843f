import type { Chain } from "../chain/types.js";
import type { OperationRow } from "./repo.js";

// Margin of TRX kept for bandwidth and activation on a TRX transfer: 1 TRX activation fee,
// 0.1 TRX for bandwidth burned when the free allowance is used up, and a little to spare.
const TRX_TRANSFER_OVERHEAD_SUN = 1_200_000n;

/**
 * Why an operation cannot be paid now (a stable hold reason), or undefined when the owner's
 * TRX and USDT cover it. USDT transfers need TRX for energy unless energy is staked; the check
 * uses the fee_limit as the worst case.
 */
export async function holdReasonFor(
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
  if (balances.usdt < op.amount) return "wallet.insufficient_usdt";
  const energyLeft = balances.energy.limit - balances.energy.used;
  if (energyLeft < 131_000n && balances.trx < feeLimitSun)
    return "wallet.insufficient_trx_for_energy";
  return undefined;
}
