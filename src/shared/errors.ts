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
export function toConnectError(thrown: unknown): ConnectError {
  if (thrown instanceof ConnectError) return thrown;
  const err = appErrorOf(thrown) ?? thrown;
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

/**
 * SQLSTATE of an error our own SQL raises with a reason (a trigger, e.g. migration 014's daily
 * limit at commit): message the reason, detail the client message, hint the metadata as JSON.
 */
export const DATABASE_REASON_STATE = "TP001";

/**
 * The AppError a thrown value is or carries: itself, or a PostgreSQL error raised with
 * DATABASE_REASON_STATE anywhere in its cause chain (slonik wraps the driver's error), as the
 * AppError it stands for. Undefined for anything else.
 */
export function appErrorOf(err: unknown): AppError | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === "object"; depth++) {
    if (e instanceof AppError) return e;
    const pg = e as { code?: unknown; message?: unknown; detail?: unknown; hint?: unknown };
    if (pg.code === DATABASE_REASON_STATE && typeof pg.message === "string") {
      if (!Object.hasOwn(catalog, pg.message)) return undefined;
      const metadata: unknown = typeof pg.hint === "string" ? JSON.parse(pg.hint) : {};
      return new AppError(pg.message as Reason, typeof pg.detail === "string" ? pg.detail : "", {
        metadata: metadata as Record<string, string>,
        cause: err,
      });
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Reads our stable reason back from a ConnectError (client side); undefined if none. */
export function reasonOf(err: unknown): string | undefined {
  if (!(err instanceof ConnectError)) return appErrorOf(err)?.reason;
  const info = err.findDetails(ErrorInfoSchema).find((d) => d.domain === ERROR_DOMAIN);
  return info?.reason;
}
