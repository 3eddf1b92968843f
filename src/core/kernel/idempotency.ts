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
import type { DatabasePool, DatabaseTransactionConnection } from "slonik";
import { AppError } from "../../shared/errors.js";
import {
  claimIdempotencyKey,
  deleteIdempotencyKeysOlderThan,
  storedIdempotencyKey,
  storeIdempotentResponse,
} from "./idempotency-repo.js";

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
    const claimed = await claimIdempotencyKey(tx, {
      principal: call.principal,
      key,
      method: call.method,
      requestHash: hash,
    });
    if (!claimed) {
      const stored = await storedIdempotencyKey(tx, call.principal, key);
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
    await storeIdempotentResponse(tx, call.principal, key, toBinary(call.responseSchema, kept));
    return response;
  });
}

/** Deletes idempotency records older than `days` (kept at least 7). */
export async function purgeIdempotencyKeys(pool: DatabasePool, days = 8): Promise<number> {
  return deleteIdempotencyKeysOlderThan(pool, Math.max(days, 7));
}
