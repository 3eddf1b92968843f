import type { CommonQueryMethods } from "slonik";
import { TransferDirection } from "../../gen/tronpay/v1/common_pb.js";
import { normalizeAddress } from "../../shared/address.js";
import { invalidPageToken, pageSizeOf } from "../kernel/page.js";
import { listTransfers, type TransferRow, walletAddresses } from "./repo.js";

/** A list request in domain terms; an empty address means every tronpay wallet. */
export interface TransferQuery {
  address: string;
  direction: TransferDirection;
  startMs?: number;
  endMs?: number;
  pageSize: number;
  pageToken: string;
  assets: readonly ("TRX" | "USDT")[];
}

/** One page of recorded transfers, newest first; the token is the last row's id. */
export async function listTransferPage(
  db: CommonQueryMethods,
  q: TransferQuery,
): Promise<{ rows: TransferRow[]; nextPageToken: string }> {
  const addresses =
    q.address === "" ? [...(await walletAddresses(db))] : [normalizeAddress(q.address)];
  if (q.pageToken !== "" && !/^[0-9]{1,19}$/.test(q.pageToken)) {
    throw invalidPageToken("page_token is not one this server gave");
  }
  const limit = pageSizeOf(q.pageSize);
  const rows = await listTransfers(db, {
    assets: q.assets,
    addresses,
    direction:
      q.direction === TransferDirection.INCOMING
        ? "IN"
        : q.direction === TransferDirection.OUTGOING
          ? "OUT"
          : "ANY",
    startMs: q.startMs,
    endMs: q.endMs,
    beforeId: q.pageToken === "" ? undefined : BigInt(q.pageToken),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, nextPageToken: rows.length > limit && last ? last.id.toString() : "" };
}
