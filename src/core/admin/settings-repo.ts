import { type CommonQueryMethods, type SerializableValue, sql } from "slonik";
import { z } from "zod";

/** The settings table: one jsonb value per key, with who changed it last and when. */

/** The boolean `field` of setting `key`'s value; null when the row or the field is missing. */
export async function settingFlag(
  db: CommonQueryMethods,
  key: string,
  field: string,
): Promise<boolean | null> {
  return db.maybeOneFirst(sql.type(z.object({ flag: z.boolean().nullable() }))`
    SELECT (value->>${field}::text)::boolean AS flag FROM settings WHERE key = ${key}`);
}

/**
 * Setting `key`'s value (null when there is no row); with forUpdate, its row stays locked
 * until the transaction ends.
 */
export async function settingValue(
  db: CommonQueryMethods,
  key: string,
  forUpdate: boolean,
): Promise<unknown> {
  const lock = forUpdate ? sql.fragment`FOR UPDATE` : sql.fragment``;
  return db.maybeOneFirst(sql.type(z.object({ value: z.unknown() }))`
    SELECT value FROM settings WHERE key = ${key} ${lock}`);
}

/** Inserts setting `key` with `value` by 'system' unless it exists (then leaves it alone). */
export async function ensureSetting(
  db: CommonQueryMethods,
  key: string,
  value: SerializableValue,
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO settings (key, value, updated_by) VALUES (${key}, ${sql.jsonb(value)}, 'system')
    ON CONFLICT (key) DO NOTHING`);
}

/** Sets the existing setting `key` to `value`, changed by `by` at `now`. */
export async function updateSetting(
  db: CommonQueryMethods,
  key: string,
  value: SerializableValue,
  by: string,
  now: number,
): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE settings SET value = ${sql.jsonb(value)}, updated_by = ${by},
      updated_at = ${sql.timestamp(new Date(now))}
    WHERE key = ${key}`);
}
