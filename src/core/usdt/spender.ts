import type { CommonQueryMethods } from "slonik";
import { AppError } from "../../shared/errors.js";
import type { SignerPolicyView } from "../operations/signer-policy.js";
import { livePayeesAt } from "../payees/repo.js";
import { importedKeyCoolingOffMs, refuseCoolingOff } from "../wallets/cooling-off.js";
import { findWalletByAddress, type WalletRow } from "../wallets/repo.js";

/**
 * Wallet purposes whose wallets may be granted a USDT allowance: the ones that pay out. A fee
 * or staking wallet has no business pulling USDT from another wallet.
 */
const SPENDING_PURPOSES: Readonly<Record<WalletRow["purpose"], boolean>> = {
  HOT: true,
  PAYOUT: true,
  FEE: false,
  STAKING: false,
};

const notAllowed = (message: string) =>
  new AppError("usdt.spender_not_allowed", message, { metadata: { field: "spender_address" } });

/**
 * The allowlist of spenders: an allowlisted payee past its address cooling-off (returns its
 * tag), or another tronpay wallet whose purpose may spend and whose key was not imported within
 * the signer's cooling-off period (returns null). Throws usdt.spender_not_allowed or
 * wallet.key_cooling_off otherwise.
 */
export async function allowedSpender(
  db: CommonQueryMethods,
  owner: WalletRow,
  spender: string,
  now: number,
  signerPolicy: SignerPolicyView | undefined,
): Promise<{ payeeTag: string | null }> {
  if (spender === owner.address) throw notAllowed("a wallet cannot be its own spender");
  const wallet = await findWalletByAddress(db, spender);
  if (wallet) {
    if (!SPENDING_PURPOSES[wallet.purpose])
      throw notAllowed(`a ${wallet.purpose} wallet may not be a spender`);
    refuseCoolingOff(wallet, now, await importedKeyCoolingOffMs(signerPolicy), "spender_address");
    return { payeeTag: null };
  }
  const payees = await livePayeesAt(db, spender);
  const usable = payees.find((p) => p.allowlisted && p.address_usable_at <= now);
  if (usable) return { payeeTag: usable.tag };
  if (payees.some((p) => p.allowlisted))
    throw notAllowed("the spender's payee address is still in its cooling-off period");
  throw notAllowed(
    "the spender is neither an allowlisted payee nor a tronpay wallet that may spend",
  );
}
