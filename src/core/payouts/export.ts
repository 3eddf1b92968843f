import { toJsonString } from "@bufbuild/protobuf";
import type { CommonQueryMethods } from "slonik";
import { PayoutSchema } from "../../gen/tronpay/v1/payout_pb.js";
import { AppError } from "../../shared/errors.js";
import { formatAmount } from "../../shared/money.js";
import { payoutToProto } from "./convert.js";
import { listPayoutRows } from "./list-repo.js";
import { attemptsOf, type PayoutAttemptRow, type PayoutRow } from "./repo.js";

/** Which payouts to export, and how. Times are ms since the epoch. */
export interface ExportQuery {
  format: "CSV" | "JSONL";
  from: number;
  to: number;
  states: string[];
  routes: string[];
}

/** One chunk: whole lines, the number of payout rows in it, and whether it is the last. */
export interface ExportChunk {
  data: string;
  rowCount: number;
  done: boolean;
}

const PAGE = 500;
const CHUNK_BYTES = 64 * 1024;

export const CSV_COLUMNS = [
  "id",
  "state",
  "route",
  "wallet_id",
  "source_address",
  "recipient_address",
  "payee_tag",
  "asset",
  "amount",
  "memo",
  "client_reference",
  "batch_id",
  "batch_item_reference",
  "created_by",
  "approved_by",
  "tx_ids",
  "trx_burned",
  "energy_used",
  "bandwidth_used",
  "failure_reason",
  "created_at",
  "updated_at",
  "confirmed_at",
] as const;

/** One RFC 4180 field: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const iso = (ms: number | null) => (ms === null ? "" : new Date(ms).toISOString());

/** One payout as a CSV line (CRLF-terminated, as RFC 4180 has it). */
export function csvLine(row: PayoutRow, attempts: readonly PayoutAttemptRow[]): string {
  const fields = [
    row.id,
    row.state,
    row.route,
    row.wallet_id,
    row.owner_address,
    row.counterparty_address,
    row.payee_tag ?? "",
    row.asset,
    formatAmount(row.amount),
    row.memo,
    row.client_reference,
    row.batch_id ?? "",
    row.batch_item_reference,
    row.created_by,
    row.approved_by ?? "",
    attempts
      .filter((a) => a.operation_id === row.id)
      .map((a) => a.tx_id)
      .join(" "),
    row.fee_sun === null ? "" : formatAmount(row.fee_sun),
    row.energy_used?.toString() ?? "",
    row.bandwidth_used?.toString() ?? "",
    row.failure_reason ?? "",
    iso(row.created_at),
    iso(row.updated_at),
    iso(row.confirmed_at),
  ];
  return `${fields.map(csvField).join(",")}\r\n`;
}

/**
 * Streams the payouts created in [from, to), newest first, as whole lines in chunks of about
 * 64 KiB; the CSV header is in the first chunk, and the last chunk says done.
 */
export async function* exportPayouts(
  db: CommonQueryMethods,
  q: ExportQuery,
): AsyncGenerator<ExportChunk> {
  if (!(q.to > q.from))
    throw new AppError("request.invalid", "created.end_time must be after created.start_time", {
      metadata: { field: "created" },
    });
  let data = q.format === "CSV" ? `${CSV_COLUMNS.join(",")}\r\n` : "";
  let bytes = Buffer.byteLength(data);
  let rowCount = 0;
  let after: { createdUs: bigint; id: string } | undefined;
  for (;;) {
    const rows = await listPayoutRows(db, {
      ...{ states: q.states, routes: q.routes, walletId: "", payeeTag: "", recipient: "" },
      ...{ batchId: "", clientReference: "", createdFrom: q.from, createdTo: q.to },
      after,
      limit: PAGE,
    });
    const attempts = await attemptsOf(
      db,
      rows.map((r) => r.id),
    );
    for (const row of rows) {
      const line =
        q.format === "CSV"
          ? csvLine(row, attempts)
          : `${toJsonString(PayoutSchema, payoutToProto(row, attempts))}\n`;
      const lineBytes = Buffer.byteLength(line);
      if (bytes + lineBytes > CHUNK_BYTES && data !== "") {
        yield { data, rowCount, done: false };
        data = "";
        bytes = 0;
        rowCount = 0;
      }
      data += line;
      bytes += lineBytes;
      rowCount++;
    }
    const last = rows.at(-1);
    if (rows.length < PAGE || !last) break;
    after = { createdUs: last.created_us, id: last.id };
  }
  yield { data, rowCount, done: true };
}
