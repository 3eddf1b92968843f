import { createHash } from "node:crypto";
import {
  clone,
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { type DatabasePool, type DatabaseTransactionConnection, sql } from "slonik";
import { z } from "zod";
import { AppError } from "../shared/errors.js";

/**
 * Idempotent writes, like Stripe's: the first answer for (principal, key) is stored in the same
 * transaction as the work and returned again for a repeat; the same key with a different
 * request is refused with `request.idempotency_key_reused`. A concurrent duplicate blocks on the
 * key's primary key until the first commits, then reads its answer. If the work fails, nothing
 * is stored and the key stays free.
 */

const KEY = /^[\x20-\x7e]{1,255}$/;

/** Checks an idempotency key's shape; throws a request.* reason. */
export function checkIdempotencyKey(key: string): void {
  if (key === "")
    throw new AppError("request.idempotency_key_missing", "idempotency_key is required for writes");
  if (!KEY.test(key)) {
    throw new AppError(
      "request.idempotency_key_invalid",
      "idempotency_key must be 1–255 printable ASCII characters",
    );
  }
}

/** sha256 of the request with its idempotency key cleared: what "the same request" means. */
export function requestHash<D extends DescMessage>(schema: D, request: MessageShape<D>): Buffer {
  const copy = clone(schema, request) as MessageShape<D> & { idempotencyKey?: string };
  if ("idempotencyKey" in copy) copy.idempotencyKey = "";
  return createHash("sha256").update(toBinary(schema, copy)).digest();
}

export interface IdempotentCall<Req extends DescMessage, Res extends DescMessage> {
  principal: string;
  /** Full RPC name, e.g. "tronpay.v1.PayoutService/CreatePayout". */
  method: string;
  requestSchema: Req;
  request: MessageShape<Req> & { idempotencyKey: string };
  responseSchema: Res;
  /** The answer to store (and replay) in place of the one returned: e.g. without a secret. */
  stored?: (answer: MessageShape<Res>) => MessageInitShape<Res>;
}

/** Runs `work` at most once per (principal, key), in one transaction with the stored answer. */
export async function idempotent<Req extends DescMessage, Res extends DescMessage>(
  pool: DatabasePool,
  call: IdempotentCall<Req, Res>,
  work: (tx: DatabaseTransactionConnection) => Promise<MessageInitShape<Res>>,
): Promise<MessageShape<Res>> {
  const key = call.request.idempotencyKey;
  checkIdempotencyKey(key);
  const hash = requestHash(call.requestSchema, call.request);
  return pool.transaction(async (tx) => {
    const claimed = await tx.maybeOneFirst(sql.type(z.object({ ok: z.number() }))`
      INSERT INTO idempotency_keys (principal, key, method, request_hash, response)
      VALUES (${call.principal}, ${key}, ${call.method}, ${sql.binary(hash)}, ${sql.binary(Buffer.alloc(0))})
      ON CONFLICT (principal, key) DO NOTHING
      RETURNING 1 AS ok`);
    if (claimed === null) {
      const stored = await tx.one(sql.type(
        z.object({
          method: z.string(),
          request_hash: z.instanceof(Buffer),
          response: z.instanceof(Buffer),
        }),
      )`
        SELECT method, request_hash, response FROM idempotency_keys WHERE principal = ${call.principal} AND key = ${key}`);
      if (stored.method !== call.method || !stored.request_hash.equals(hash)) {
        throw new AppError(
          "request.idempotency_key_reused",
          "this idempotency key was already used with a different request",
        );
      }
      return fromBinary(call.responseSchema, stored.response);
    }
    const response = create(call.responseSchema, await work(tx));
    const kept = call.stored ? create(call.responseSchema, call.stored(response)) : response;
    await tx.query(sql.unsafe`
      UPDATE idempotency_keys SET response = ${sql.binary(Buffer.from(toBinary(call.responseSchema, kept)))}
      WHERE principal = ${call.principal} AND key = ${key}`);
    return response;
  });
}

/** Deletes idempotency records older than `days` (kept at least 7). */
export async function purgeIdempotencyKeys(pool: DatabasePool, days = 8): Promise<number> {
  const result = await pool.query(
    sql.unsafe`DELETE FROM idempotency_keys WHERE created_at < now() - ${Math.max(days, 7)} * interval '1 day'`,
  );
  return result.rowCount;
}
