import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

/** An idempotency_keys row: the first answer for (principal, key). */
export const IdempotencyRow = z.object({
  principal: z.string(),
  key: z.string(),
  method: z.string(),
  request_hash: z.instanceof(Buffer),
  response: z.instanceof(Buffer),
});
export type IdempotencyRow = z.infer<typeof IdempotencyRow>;

/**
 * Claims (principal, key) for a request with an empty response; false when it is taken (a
 * concurrent claim blocks on the primary key until the first transaction ends).
 */
export async function claimIdempotencyKey(
  tx: CommonQueryMethods,
  k: { principal: string; key: string; method: string; requestHash: Buffer },
): Promise<boolean> {
  const claimed = await tx.maybeOneFirst(sql.type(z.object({ ok: z.number() }))`
    INSERT INTO idempotency_keys (principal, key, method, request_hash, response)
    VALUES (${k.principal}, ${k.key}, ${k.method}, ${sql.binary(k.requestHash)}, ${sql.binary(Buffer.alloc(0))})
    ON CONFLICT (principal, key) DO NOTHING
    RETURNING 1 AS ok`);
  return claimed !== null;
}

/** The stored row of (principal, key); it must exist. */
export async function storedIdempotencyKey(
  tx: CommonQueryMethods,
  principal: string,
  key: string,
): Promise<IdempotencyRow> {
  return tx.one(sql.type(IdempotencyRow)`
    SELECT principal, key, method, request_hash, response FROM idempotency_keys
    WHERE principal = ${principal} AND key = ${key}`);
}

/** Stores the answer of (principal, key). */
export async function storeIdempotentResponse(
  tx: CommonQueryMethods,
  principal: string,
  key: string,
  response: Uint8Array,
): Promise<void> {
  await tx.query(sql.unsafe`
    UPDATE idempotency_keys SET response = ${sql.binary(Buffer.from(response))}
    WHERE principal = ${principal} AND key = ${key}`);
}

/** Deletes records older than `days`; returns how many. */
export async function deleteIdempotencyKeysOlderThan(
  db: CommonQueryMethods,
  days: number,
): Promise<number> {
  const result = await db.query(
    sql.unsafe`DELETE FROM idempotency_keys WHERE created_at < now() - ${days} * interval '1 day'`,
  );
  return result.rowCount;
}
