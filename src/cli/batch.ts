import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { toJson } from "@bufbuild/protobuf";
import type { Command } from "commander";
import { Asset } from "../gen/tronpay/v1/common_pb.js";
import {
  type PayoutBatchProgress,
  PayoutBatchProgressSchema,
  PayoutBatchState,
  PayoutRoute,
  PayoutService,
  PayoutState,
} from "../gen/tronpay/v1/payout_pb.js";
import { connectClient, resolveConnection } from "./client.js";
import { type BatchRow, parseBatchCsv } from "./csv.js";
import { type ApiOptions, apiOptions, enumName, json, print, table } from "./output.js";

/** `tronpay batch submit FILE.csv`: validate, create the batch, draw its progress, summarize. */
export function registerBatchCommands(program: Command): void {
  const batch = program.command("batch").description("payout batches from CSV files");
  apiOptions(batch.command("submit <file>").description("submit a CSV of payouts as one batch"))
    .option("--wallet <id>", "the paying wallet for rows without a wallet column")
    .option("--key-idem <key>", "idempotency key (default: a new one); reuse it to retry safely")
    .action(async (file: string, opts: ApiOptions & { wallet?: string; keyIdem?: string }) => {
      const { rows, errors } = parseBatchCsv(readFileSync(file, "utf8"), opts.wallet ?? "");
      if (errors.length > 0) {
        const lines = errors.map((e) => `  line ${e.line}: ${e.message}`).join("\n");
        throw new Error(`${file} has ${errors.length} bad row(s); nothing was sent:\n${lines}`);
      }
      const payouts = connectClient(PayoutService, resolveConnection(opts));
      const created = await payouts.createPayoutBatch({
        idempotencyKey: opts.keyIdem ?? randomUUID(),
        items: rows.map(batchItem),
      });
      const id = created.batch?.id ?? "";
      if (!opts.json) print(`Batch ${id}: ${rows.length} payouts accepted.\n`);
      let last: PayoutBatchProgress | undefined;
      for await (const res of payouts.watchPayoutBatch({ id })) {
        last = res.progress;
        if (last && !opts.json && process.stdout.isTTY)
          process.stdout.write(`\r${progressBar(last)}`);
      }
      if (!last) throw new Error("the batch watch ended without progress");
      if (opts.json) print(json(toJson(PayoutBatchProgressSchema, last)));
      else print(`${process.stdout.isTTY ? "\n" : ""}${progressBar(last)}\n\n${summary(last)}`);
      if (last.state !== PayoutBatchState.COMPLETED) process.exitCode = 1;
    });
}

/** A validated CSV row as a CreatePayoutBatch item. */
export function batchItem(row: BatchRow) {
  return {
    itemReference: row.reference,
    walletId: row.walletId,
    recipient: row.recipient,
    amount: { asset: row.asset === "USDT" ? Asset.USDT : Asset.TRX, value: row.amount },
    route: PayoutRoute[row.route],
    ...(row.memo !== undefined ? { memo: row.memo } : {}),
  };
}

const BAR_WIDTH = 30;

/** One line: a bar of final payouts, and the count of each state. */
export function progressBar(p: PayoutBatchProgress): string {
  const final = p.stateCounts
    .filter((c) =>
      [PayoutState.CONFIRMED, PayoutState.FAILED, PayoutState.CANCELLED].includes(c.state),
    )
    .reduce((n, c) => n + c.count, 0);
  const filled = p.itemCount === 0 ? BAR_WIDTH : Math.round((final / p.itemCount) * BAR_WIDTH);
  const counts = p.stateCounts
    .map((c) => `${enumName(PayoutState, c.state)} ${c.count}`)
    .join(", ");
  return `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${final}/${p.itemCount}  ${counts}`;
}

/** The final table: how many payouts ended in each state. */
export function summary(p: PayoutBatchProgress): string {
  return (
    `Batch ${p.batchId}: ${enumName(PayoutBatchState, p.state)}\n` +
    table(
      ["STATE", "PAYOUTS"],
      p.stateCounts.map((c) => [enumName(PayoutState, c.state), String(c.count)]),
    )
  );
}
