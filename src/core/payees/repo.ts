import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

/** KYC statuses as stored (the proto enum names without the prefix). */
export const KYC_STATUSES = ["NONE", "PENDING", "VERIFIED", "REJECTED", "EXPIRED"] as const;
export type KycStatusName = (typeof KYC_STATUSES)[number];

/** A payee as stored. Times are ms since the epoch. */
export const PayeeRow = z.object({
  tag: z.string(),
  display_name: z.string(),
  address: z.string(),
  kyc_status: z.enum(KYC_STATUSES),
  allowlisted: z.boolean(),
  address_usable_at: z.number(),
  created_by: z.string(),
  created_at: z.number(),
  updated_at: z.number(),
  deleted_at: z.number().nullable(),
});
export type PayeeRow = z.infer<typeof PayeeRow>;

const COLUMNS = sql.fragment`tag, display_name, address, kyc_status, allowlisted, address_usable_at,
  created_by, created_at, updated_at, deleted_at`;

const at = (ms: number) => sql.timestamp(new Date(ms));

/** A payee by tag, deleted or not (tags are never reused, so a deleted one still blocks). */
export async function findPayeeRow(
  db: CommonQueryMethods,
  tag: string,
  forUpdate = false,
): Promise<PayeeRow | null> {
  const lock = forUpdate ? sql.fragment`FOR UPDATE` : sql.fragment``;
  return db.maybeOne(sql.type(PayeeRow)`SELECT ${COLUMNS} FROM payees WHERE tag = ${tag} ${lock}`);
}

/** Inserts a payee; false when the tag exists (live or deleted). */
export async function insertPayeeRow(
  tx: CommonQueryMethods,
  p: Omit<PayeeRow, "created_at" | "updated_at" | "deleted_at">,
  now: number,
): Promise<PayeeRow | null> {
  return tx.maybeOne(sql.type(PayeeRow)`
    INSERT INTO payees (tag, display_name, address, kyc_status, allowlisted, address_usable_at, created_by,
                        created_at, updated_at)
    VALUES (${p.tag}, ${p.display_name}, ${p.address}, ${p.kyc_status}, ${p.allowlisted},
            ${at(p.address_usable_at)}, ${p.created_by}, ${at(now)}, ${at(now)})
    ON CONFLICT (tag) DO NOTHING
    RETURNING ${COLUMNS}`);
}

/** What an update may change. */
export interface PayeePatch {
  displayName: string;
  address: string;
  kycStatus: KycStatusName;
  allowlisted: boolean;
  addressUsableAt: number;
}

/** Writes a payee's new fields (the caller holds its row lock). */
export async function updatePayeeRow(
  tx: CommonQueryMethods,
  tag: string,
  p: PayeePatch,
  now: number,
): Promise<PayeeRow> {
  return tx.one(sql.type(PayeeRow)`
    UPDATE payees SET display_name = ${p.displayName}, address = ${p.address}, kyc_status = ${p.kycStatus},
      allowlisted = ${p.allowlisted}, address_usable_at = ${at(p.addressUsableAt)}, updated_at = ${at(now)}
    WHERE tag = ${tag}
    RETURNING ${COLUMNS}`);
}

/** Marks a payee deleted (the row stays: accepted payouts reference its tag). */
export async function softDeletePayeeRow(
  tx: CommonQueryMethods,
  tag: string,
  now: number,
): Promise<void> {
  await tx.query(
    sql.unsafe`UPDATE payees SET deleted_at = ${at(now)}, updated_at = ${at(now)} WHERE tag = ${tag}`,
  );
}

/** ListPayees filters (empty ones match all). */
export interface PayeeFilter {
  kycStatuses: KycStatusName[];
  allowlisted?: boolean;
  prefix: string;
  address: string;
  /** Tags strictly after this one (keyset cursor). */
  afterTag: string;
  limit: number;
}

/** Live payees ordered by tag. */
export async function listPayeeRows(db: CommonQueryMethods, f: PayeeFilter): Promise<PayeeRow[]> {
  const where = [sql.fragment`deleted_at IS NULL`];
  if (f.kycStatuses.length)
    where.push(sql.fragment`kyc_status = ANY(${sql.array(f.kycStatuses, "text")})`);
  if (f.allowlisted !== undefined) where.push(sql.fragment`allowlisted = ${f.allowlisted}`);
  if (f.prefix !== "") {
    // LIKE metacharacters in the prefix are matched literally.
    const pattern = `${f.prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(sql.fragment`(lower(tag) LIKE ${pattern} OR lower(display_name) LIKE ${pattern})`);
  }
  if (f.address !== "") where.push(sql.fragment`address = ${f.address}`);
  if (f.afterTag !== "") where.push(sql.fragment`tag > ${f.afterTag}`);
  const rows = await db.any(sql.type(PayeeRow)`
    SELECT ${COLUMNS} FROM payees WHERE ${sql.join(where, sql.fragment` AND `)}
    ORDER BY tag LIMIT ${f.limit}`);
  return [...rows];
}

/** The live (not deleted) payees with that address, by tag. */
export async function livePayeesAt(
  db: CommonQueryMethods,
  address: string,
): Promise<readonly PayeeRow[]> {
  return db.any(sql.type(PayeeRow)`
    SELECT ${COLUMNS} FROM payees WHERE address = ${address} AND deleted_at IS NULL ORDER BY tag`);
}
