import type { CommonQueryMethods } from "slonik";
import { walletOrThrow } from "../wallets/repo.js";

/** The address of one of our wallets; request.not_found (field wallet_id) when unknown. */
export async function walletAddress(db: CommonQueryMethods, walletId: string): Promise<string> {
  const wallet = await walletOrThrow(db, walletId, {
    field: "wallet_id",
    reason: "request.not_found",
  });
  return wallet.address;
}
