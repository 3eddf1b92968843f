import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseBatchCsv } from "../../src/cli/csv.js";
import { createProgram } from "../../src/cli/program.js";
import { PayoutService } from "../../src/gen/tronpay/v1/payout_pb.js";
import { WalletPurpose, WalletService } from "../../src/gen/tronpay/v1/wallet_pb.js";
import { newTestAccount, TRX } from "../devnet/helpers.js";
import { type Stack, startStack } from "../helpers/stack.js";

const A = newTestAccount().address;
const B = newTestAccount().address;

describe("the batch CSV validator", () => {
  it("reports every bad row by its line number and keeps the good ones", () => {
    const csv = [
      "to,amount,asset,reference",
      `${A},1.5,USDT,r1`,
      `${A.slice(0, -1)}X,1,USDT,r2`,
      `${B},1.1234567,USDT,r3`,
      `${B},1,EUR,r4`,
      "",
      `${B},2,trx,r1`,
      `${B},0,TRX,r6`,
      `${B},3,TRX`,
    ].join("\n");
    const { rows, errors } = parseBatchCsv(csv, "wal_x");
    expect(rows.map((r) => r.line)).toEqual([2]);
    expect(errors.map((e) => e.line)).toEqual([3, 4, 5, 7, 8, 9]);
    expect(errors[0]?.message).toMatch(/not a TRON address/);
    expect(errors[3]?.message).toMatch(/repeats line 2/);
  });

  it("rejects a header without a recipient column or a wallet", () => {
    const { errors } = parseBatchCsv(`amount,asset\n1,USDT`);
    expect(errors.map((e) => e.message)).toEqual([
      "header: missing column to or payee",
      "header: missing column wallet (or pass --wallet)",
    ]);
  });

  it("takes route, wallet and memo columns and defaults the reference to the line", () => {
    const { rows, errors } = parseBatchCsv(
      `wallet,payee,amount,asset,route,memo\nw1,alice,3,TRX,kyc,hi`,
    );
    expect(errors).toEqual([]);
    expect(rows[0]).toMatchObject({
      walletId: "w1",
      recipient: { case: "payeeTag", value: "alice" },
      route: "KYC",
      reference: "line-2",
      memo: "hi",
    });
  });
});

describe("tronpay batch submit (against devnet, signer and core)", () => {
  let stack: Stack;
  let walletId: string;

  beforeAll(async () => {
    stack = await startStack();
    const { wallet } = await stack.client(WalletService).createWallet({
      idempotencyKey: "batch-w",
      label: "batch",
      purpose: WalletPurpose.PAYOUT,
    });
    walletId = wallet?.id ?? "";
    stack.net.devnet.admin.fund(wallet?.address ?? "", {
      trx: 1_000n * TRX,
      usdt: 1_000n * 1_000_000n,
    });
    stack.net.solidify();
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("submits 20 rows as one batch and ends with all of them confirmed", async () => {
    const recipients = Array.from({ length: 20 }, () => newTestAccount().address);
    const lines = recipients.map((to, i) => `${to},${i + 1}.25,${i % 2 ? "TRX" : "USDT"},row-${i}`);
    const file = join(mkdtempSync(join(tmpdir(), "tp-batch-")), "batch.csv");
    writeFileSync(file, ["to,amount,asset,reference", ...lines].join("\n"));
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    try {
      await createProgram().parseAsync(
        [
          "batch",
          "submit",
          file,
          "--wallet",
          walletId,
          "--url",
          stack.coreUrl,
          "--key",
          stack.adminKey,
          "--json",
        ],
        { from: "user" },
      );
    } finally {
      write.mockRestore();
    }
    const progress = JSON.parse(out.join("")) as {
      batchId: string;
      state: string;
      itemCount: number;
      stateCounts: { state: string; count: number }[];
      done: boolean;
    };
    expect(progress.done).toBe(true);
    expect(progress.itemCount).toBe(20);
    expect(progress.state).toBe("PAYOUT_BATCH_STATE_COMPLETED");
    expect(progress.stateCounts).toEqual([{ state: "PAYOUT_STATE_CONFIRMED", count: 20 }]);
    const { payouts } = await stack
      .client(PayoutService)
      .listPayouts({ batchId: progress.batchId, page: { pageSize: 100 } });
    expect(new Set(payouts.map((p) => p.recipientAddress))).toEqual(new Set(recipients));
    expect(process.exitCode ?? 0).toBe(0);
  }, 60_000);
});
