import { AppError } from "../../shared/errors.js";
import type { SignerPolicyView } from "../operations/signer-policy.js";
import type { WalletRow } from "./repo.js";

/** The signer's default imported-key cooling-off (its config default), used until it reports one. */
const DEFAULT_IMPORTED_KEY_COOLING_OFF_MS = 86_400_000;

/** The imported-key cooling-off the signer reports, or its default while it has reported none. */
export async function importedKeyCoolingOffMs(view: SignerPolicyView | undefined): Promise<number> {
  const snapshot = await view?.current();
  return snapshot?.policy.importedKeyCoolingOffMs ?? DEFAULT_IMPORTED_KEY_COOLING_OFF_MS;
}

/**
 * Throws wallet.key_cooling_off when the wallet's key was imported less than `coolingOffMs`
 * ago: whoever handed the key in knows it, so nothing of value may be sent its way yet.
 */
export function refuseCoolingOff(
  wallet: WalletRow,
  now: number,
  coolingOffMs: number,
  field: string,
): void {
  if (!wallet.imported || now >= wallet.created_at + coolingOffMs) return;
  throw new AppError(
    "wallet.key_cooling_off",
    "that wallet's key was imported too recently to receive allowances or delegations",
    {
      metadata: {
        field,
        usable_at: new Date(wallet.created_at + coolingOffMs).toISOString(),
      },
    },
  );
}
