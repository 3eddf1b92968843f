import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { CommonQueryMethods } from "slonik";
import {
  type ListPayoutsRequest,
  type ListPayoutsResponse,
  type PayoutBatch,
  PayoutRoute,
  PayoutState,
  type WatchPayoutBatchResponse,
} from "../../gen/tronpay/v1/payout_pb.js";
import { AppError } from "../../shared/errors.js";
import { invalidPageToken, pageSizeOf } from "../kernel/page.js";
import { batchCounts, findBatch } from "./batch-repo.js";
import { batchToProto, payoutToProto } from "./convert.js";
import { listPayoutRows } from "./list-repo.js";
import { attemptsOf } from "./repo.js";

/** A page of payouts, newest first, with an opaque keyset cursor. */
export async function listPayouts(
  db: CommonQueryMethods,
  req: ListPayoutsRequest,
): Promise<ListPayoutsResponse> {
  const limit = pageSizeOf(req.page?.pageSize);
  const rows = await listPayoutRows(db, {
    states: req.states.map((s) => PayoutState[s]),
    routes: req.routes.map((r) => PayoutRoute[r]),
    walletId: req.walletId,
    payeeTag: req.payeeTag,
    recipient: req.recipientAddress,
    batchId: req.batchId,
    clientReference: req.clientReference,
    createdFrom: req.created?.startTime ? timestampMs(req.created.startTime) : undefined,
    createdTo: req.created?.endTime ? timestampMs(req.created.endTime) : undefined,
    after: decodeCursor(req.page?.pageToken ?? ""),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const attempts = await attemptsOf(
    db,
    page.map((r) => r.id),
  );
  const last = page.at(-1);
  return {
    $typeName: "tronpay.v1.ListPayoutsResponse",
    payouts: page.map((r) => payoutToProto(r, attempts)),
    page: {
      $typeName: "tronpay.v1.PageResponse",
      nextPageToken: rows.length > limit && last ? encodeCursor(last.created_us, last.id) : "",
    },
  };
}

/** A batch with its counts; throws request.not_found. */
export async function getBatch(db: CommonQueryMethods, id: string): Promise<PayoutBatch> {
  const row = await findBatch(db, id);
  if (!row)
    throw new AppError("request.not_found", "no batch with that id", { metadata: { field: "id" } });
  return batchToProto(row, await batchCounts(db, id));
}

/**
 * Streams a batch's progress: the current counts at once, then on every change, until the
 * batch is closed (or the client goes away).
 */
export async function* watchBatch(
  db: CommonQueryMethods,
  id: string,
  intervalMs: number,
  signal: AbortSignal,
): AsyncGenerator<WatchPayoutBatchResponse> {
  let previous = "";
  while (!signal.aborted) {
    const batch = await getBatch(db, id);
    const done = batch.state !== 2; // PROCESSING
    const key = JSON.stringify(batch.stateCounts.map((c) => [c.state, c.count])) + batch.state;
    if (key !== previous || done) {
      previous = key;
      yield {
        $typeName: "tronpay.v1.WatchPayoutBatchResponse",
        progress: {
          $typeName: "tronpay.v1.PayoutBatchProgress",
          batchId: batch.id,
          state: batch.state,
          itemCount: batch.itemCount,
          stateCounts: batch.stateCounts,
          done,
          updatedAt: batch.updatedAt,
        },
      };
    }
    if (done) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The page token of a page that ends at (createdUs, id): opaque to clients. */
export function encodeCursor(createdUs: bigint, id: string): string {
  return Buffer.from(JSON.stringify([createdUs.toString(), id])).toString("base64url");
}

function decodeCursor(token: string): { createdUs: bigint; id: string } | undefined {
  if (token === "") return undefined;
  try {
    const [us, id] = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as [
      unknown,
      unknown,
    ];
    if (typeof us === "string" && /^\d{1,20}$/.test(us) && typeof id === "string") {
      return { createdUs: BigInt(us), id };
    }
  } catch {}
  throw invalidPageToken();
}
