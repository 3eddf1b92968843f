import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";

/** The address of one of our wallets; request.not_found (field wallet_id) when unknown. */
export async function walletAddress(db: CommonQueryMethods, walletId: string): Promise<string> {
  const address =
    walletId === ""
      ? null
      : await db.maybeOneFirst(
          sql.type(
            z.object({ address: z.string() }),
          )`SELECT address FROM wallets WHERE id = ${walletId}`,
        );
  if (address === null)
    throw new AppError("request.not_found", "no wallet with that id", {
      metadata: { field: "wallet_id" },
    });
  return address;
}
