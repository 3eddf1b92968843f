import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import { appendAudit } from "../kernel/audit.js";

export const WalletRow = z.object({
  id: z.string(),
  address: z.string(),
  label: z.string(),
  purpose: z.enum(["HOT", "PAYOUT", "FEE", "STAKING"]),
  derivation_path: z.string(),
  imported: z.boolean(),
  created_by: z.string(),
  created_at: z.number(),
});
export type WalletRow = z.infer<typeof WalletRow>;

const COLUMNS = sql.fragment`id, address, label, purpose, derivation_path, imported, created_by, created_at`;

/** Stores a wallet (public side only) with an audit row; returns the stored row. */
export async function insertWallet(
  tx: CommonQueryMethods,
  w: Omit<WalletRow, "created_at">,
): Promise<WalletRow> {
  const row = await tx.one(sql.type(WalletRow)`
    INSERT INTO wallets (id, address, label, purpose, derivation_path, imported, created_by)
    VALUES (${w.id}, ${w.address}, ${w.label}, ${w.purpose}, ${w.derivation_path}, ${w.imported}, ${w.created_by})
    ON CONFLICT (address) DO UPDATE SET label = wallets.label
    RETURNING ${COLUMNS}`);
  await appendAudit(tx, {
    actor: w.created_by,
    action: "wallet.created",
    subject: row.id,
    details: { address: row.address, purpose: row.purpose, imported: row.imported },
  });
  return row;
}

/** The tronpay wallet with that address, or null. */
export async function findWalletByAddress(
  db: CommonQueryMethods,
  address: string,
): Promise<WalletRow | null> {
  return db.maybeOne(
    sql.type(WalletRow)`SELECT ${COLUMNS} FROM wallets WHERE address = ${address}`,
  );
}

/** The tronpay wallet with that id, or null. */
export async function findWallet(db: CommonQueryMethods, id: string): Promise<WalletRow | null> {
  return db.maybeOne(sql.type(WalletRow)`SELECT ${COLUMNS} FROM wallets WHERE id = ${id}`);
}

/** How walletOrThrow refuses an unknown id, and what else it answers with the wallet. */
export interface WalletLookup {
  /** The request field that named the wallet (metadata.field of the refusal). */
  field: string;
  /**
   * wallet.not_found is the catalog's reason; PayoutService and WalletService answered
   * request.not_found before it existed and their clients (and tests) rely on it.
   */
  reason?: "wallet.not_found" | "request.not_found";
  /** An address to check in the same query: is it one of our wallets (owns_address)? */
  ownsAddress?: string | null;
}

const WalletLookupRow = WalletRow.extend({ owns_address: z.boolean().nullable() });

/**
 * The tronpay wallet with that id (an empty id is unknown), with owns_address when asked
 * (null otherwise); throws `lookup.reason` (wallet.not_found by default) when there is none.
 */
export async function walletOrThrow(
  db: CommonQueryMethods,
  id: string,
  lookup: WalletLookup,
): Promise<z.infer<typeof WalletLookupRow>> {
  const address = lookup.ownsAddress ?? null;
  const owns =
    address === null
      ? sql.fragment`NULL::boolean`
      : sql.fragment`EXISTS (SELECT 1 FROM wallets WHERE address = ${address})`;
  const row =
    id === ""
      ? null
      : await db.maybeOne(sql.type(WalletLookupRow)`
          SELECT ${COLUMNS}, ${owns} AS owns_address FROM wallets WHERE id = ${id}`);
  if (row === null) {
    throw new AppError(lookup.reason ?? "wallet.not_found", "no tronpay wallet with that id", {
      metadata: { field: lookup.field },
    });
  }
  return row;
}

/** True when the address is one of our own wallets. */
export async function isOwnWallet(db: CommonQueryMethods, address: string): Promise<boolean> {
  return db.exists(sql.unsafe`SELECT 1 FROM wallets WHERE address = ${address}`);
}

export async function listWalletRows(
  db: CommonQueryMethods,
  purposes: string[],
  afterId: string,
  limit: number,
) {
  const rows = await db.any(sql.type(WalletRow)`
    SELECT ${COLUMNS} FROM wallets
    WHERE (${purposes.length === 0} OR purpose = ANY(${sql.array(purposes, "text")})) AND id > ${afterId}
    ORDER BY id LIMIT ${limit}`);
  return [...rows];
}

/** The first `limit` wallets (by creation) of the given purposes. */
export async function walletsOfPurposes(
  db: CommonQueryMethods,
  purposes: readonly string[],
  limit: number,
): Promise<readonly WalletRow[]> {
  return db.any(sql.type(WalletRow)`
    SELECT ${COLUMNS} FROM wallets WHERE purpose = ANY(${sql.array([...purposes], "text")})
    ORDER BY created_at LIMIT ${limit}`);
}
