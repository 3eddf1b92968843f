import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
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

export async function findWallet(db: CommonQueryMethods, id: string): Promise<WalletRow | null> {
  return db.maybeOne(sql.type(WalletRow)`SELECT ${COLUMNS} FROM wallets WHERE id = ${id}`);
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
