import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type CallOptions, type Client, Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import type {
  SignerService,
  SignTransactionRequestSchema,
  SignTransactionResponse,
} from "../../gen/tronpay/signer/v1/signer_pb.js";
import { catalog, type Reason } from "../../shared/error-catalog.js";
import { ERROR_DOMAIN } from "../../shared/errors.js";

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
