import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { catalog, type Reason } from "./error-catalog.js";

export type { Reason } from "./error-catalog.js";

/** The ErrorInfo domain that marks our own reasons. */
export const ERROR_DOMAIN = "tronpay";

export interface AppErrorOptions {
  /** The underlying error; logged, never shown to a client. */
  cause?: unknown;
  /** Safe, non-secret facts for the client (e.g. the offending field). */
  metadata?: Record<string, string>;
  /** Further typed details for the client (e.g. per-item batch errors). */
  details?: OutgoingDetail[];
}

/** A protobuf message sent to the client as an error detail. */
export type OutgoingDetail = { desc: DescMessage; value: MessageInitShape<DescMessage> };

/**
 * A domain error with a stable reason from the catalog. Its message is shown to clients, so
 * it must never contain secrets or internal details; put those in `cause`.
 */
export class AppError extends Error {
  readonly reason: Reason;
  readonly metadata: Record<string, string>;
  declare readonly details: OutgoingDetail[];

  constructor(reason: Reason, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.reason = reason;
    this.metadata = options.metadata ?? {};
    // Not enumerable: a detail holds its message descriptor, a graph of the whole proto registry,
    // and error serializers (slonik logs a failed transaction's error) would walk it for ever.
    Object.defineProperty(this, "details", { value: options.details ?? [], enumerable: false });
  }

  /** The Connect code this error's reason maps to. */
  get code(): Code {
    return catalog[this.reason].code;
  }
}

/** The Connect code for a reason. */
export function codeOf(reason: Reason): Code {
  return catalog[reason].code;
}

/** The HTTP status for a reason, through the code table connect-es and grpc-gateway share. */
export function httpStatusOf(reason: Reason): number {
  return codeToHttpStatus(codeOf(reason));
}

/**
 * Converts any thrown value into a ConnectError a client may see: AppErrors keep their
 * message and carry their reason in a google.rpc.ErrorInfo detail; anything else becomes
 * `internal` with a generic message (the original stays in `cause` for the log).
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof AppError) {
    const info = create(ErrorInfoSchema, {
      reason: err.reason,
      domain: ERROR_DOMAIN,
      metadata: err.metadata,
    });
    return new ConnectError(
      err.message,
      err.code,
      undefined,
      // Typed details (e.g. per-item batch errors) travel after the ErrorInfo.
      [{ desc: ErrorInfoSchema, value: info }, ...err.details],
      err,
    );
  }
  return new ConnectError("internal error", Code.Internal, undefined, undefined, err);
}

/** Reads our stable reason back from a ConnectError (client side); undefined if none. */
export function reasonOf(err: unknown): string | undefined {
  if (!(err instanceof ConnectError)) return err instanceof AppError ? err.reason : undefined;
  const info = err.findDetails(ErrorInfoSchema).find((d) => d.domain === ERROR_DOMAIN);
  return info?.reason;
}
