import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type CallOptions,
  type Client,
  Code,
  ConnectError,
  type Interceptor,
} from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import type {
  SignerService,
  SignTransactionRequestSchema,
  SignTransactionResponse,
} from "../../gen/tronpay/signer/v1/signer_pb.js";
import { catalog, type Reason } from "../../shared/error-catalog.js";
import { AppError, ERROR_DOMAIN, toConnectError } from "../../shared/errors.js";

/** Socket errors that mean the signer is not there to answer: missing, refused, gone, slow. */
const DOWN_ERRNOS = new Set(["ENOENT", "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT"]);

/**
 * True when a signer call failed for want of a signer (no answer of its own): the socket is
 * missing or refuses, the connection broke, or the call timed out. The signer's own refusals
 * carry an ErrorInfo and are not this.
 */
function signerDown(err: unknown): boolean {
  const e = ConnectError.from(err);
  if (e.findDetails(ErrorInfoSchema).length > 0) return false;
  const errno = (e.cause as { code?: unknown } | undefined)?.code;
  if (typeof errno === "string" && DOWN_ERRNOS.has(errno)) return true;
  return e.code === Code.Unavailable || e.code === Code.DeadlineExceeded;
}

/**
 * Core's signer calls fail with signer.unavailable (Unavailable, with the reason) when the
 * signer cannot be reached, so a client is told what is down instead of an internal error.
 */
export const signerUnavailableInterceptor: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    if (!signerDown(err)) throw err;
    // A ConnectError (with the reason's ErrorInfo): the client would wrap anything else.
    throw toConnectError(
      new AppError("signer.unavailable", "the signer cannot be reached", { cause: err }),
    );
  }
};

/** Most items the signer takes in one SignTransactions call (signer.proto). */
export const SIGNER_BATCH_MAX = 256;

/** One item: what SignTransaction takes. */
export type SignRequest = MessageInitShape<typeof SignTransactionRequestSchema>;

/**
 * Signs many transactions through SignTransactions, SIGNER_BATCH_MAX per call, one call after
 * the other so items are signed in the given order (an item sees the ones before it, as with
 * single calls). Returns one result per item, in order: the signer's response, or the
 * ConnectError SignTransaction would have thrown for it (same code, and an ErrorInfo with the
 * same reason and metadata), so a caller handles a refused item as it handles a refused call.
 * A call that fails as a whole (signer unreachable, journal failure) rejects; items of earlier
 * calls were signed and journaled, and asking again returns them reused.
 */
export async function signTransactions(
  signer: Client<typeof SignerService>,
  items: readonly SignRequest[],
  options?: CallOptions,
): Promise<(SignTransactionResponse | ConnectError)[]> {
  const out: (SignTransactionResponse | ConnectError)[] = [];
  for (let i = 0; i < items.length; i += SIGNER_BATCH_MAX) {
    const chunk = items.slice(i, i + SIGNER_BATCH_MAX);
    const { results } = await signer.signTransactions({ items: [...chunk] }, options);
    if (results.length !== chunk.length) {
      throw new ConnectError(
        `the signer answered ${results.length} results for ${chunk.length} items`,
        Code.Internal,
      );
    }
    for (const r of results) {
      if (r.result.case === "signed") out.push(r.result.value);
      else out.push(itemError(r.result.value));
    }
  }
  return out;
}

function itemError(
  e: { reason: string; message: string; metadata: Record<string, string> } | undefined,
): ConnectError {
  if (!e) return new ConnectError("the signer answered an empty result", Code.Internal);
  const known = Object.hasOwn(catalog, e.reason) ? catalog[e.reason as Reason] : undefined;
  const info = create(ErrorInfoSchema, {
    reason: e.reason,
    domain: ERROR_DOMAIN,
    metadata: e.metadata,
  });
  return new ConnectError(e.message, known?.code ?? Code.Internal, undefined, [
    { desc: ErrorInfoSchema, value: info },
  ]);
}
