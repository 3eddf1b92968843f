import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/helpers/db.js";
import { Asset, OperationKind } from "../../gen/tronpay/v1/common_pb.js";
import { PayoutRoute, PayoutState } from "../../gen/tronpay/v1/payout_pb.js";
import { payoutToProto } from "./convert.js";
import { CSV_COLUMNS, csvField, csvLine, type ExportChunk, exportPayouts } from "./export.js";
import type { PayoutAttemptRow, PayoutRow } from "./repo.js";

const T = Date.UTC(2026, 0, 2, 3, 4, 5);

const row: PayoutRow = {
  id: "p-1",
  kind: "PAYOUT",
  state: "CONFIRMED",
  asset: "USDT",
  amount: 12_500_000n,
  wallet_id: "w-1",
  owner_address: "TOwner",
  counterparty_address: "TRecipient",
  memo: 'rent, "march"',
  priority: 2,
  hold_reason: null,
  failure_reason: null,
  failure_detail: null,
  created_by: "key:ops",
  created_at: T,
  updated_at: T + 1000,
  confirmed_at: T + 2000,
  fee_sun: 1_100_000n,
  energy_used: 65_000n,
  bandwidth_used: 345n,
  activated_recipient: false,
  route: "V0",
  payee_tag: null,
  client_reference: "ref-1",
  metadata: { order: "7" },
  kyc_hash: null,
  batch_id: null,
  batch_item_reference: "",
  approved_by: null,
  cancel_reason: null,
  service_fee: 0n,
  created_us: BigInt(T) * 1000n,
};
const attempt = (operation_id: string, tx_id: string): PayoutAttemptRow => ({
  operation_id,
  tx_id,
  state: "INCLUDED",
  expiration: T + 60_000,
  broadcast_count: 1,
  block_number: 42n,
  fee_limit: 30_000_000n,
  last_broadcast_error: null,
  signed_at: T,
});

describe("CSV formatting", () => {
  it("quotes a field only when RFC 4180 needs it, doubling quotes", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField("cr\r")).toBe('"cr\r"');
    expect(csvField("")).toBe("");
  });

  it("writes one CRLF line per payout, a field per column, its own attempts' tx ids", () => {
    const line = csvLine(row, [attempt("p-1", "aa"), attempt("p-2", "bb"), attempt("p-1", "cc")]);
    expect(line.endsWith("\r\n")).toBe(true);
    expect(line).toBe(
      [
        "p-1,CONFIRMED,V0,w-1,TOwner,TRecipient,,USDT,12.5",
        '"rent, ""march""",ref-1,,,key:ops,,aa cc,1.1,65000,345,',
        "2026-01-02T03:04:05.000Z,2026-01-02T03:04:06.000Z,2026-01-02T03:04:07.000Z\r\n",
      ].join(","),
    );
    expect(line.replace('"rent, ""march"""', "memo").split(",")).toHaveLength(CSV_COLUMNS.length);
  });

  it("leaves the network cost and times empty before they are known", () => {
    const pending = {
      ...row,
      fee_sun: null,
      energy_used: null,
      bandwidth_used: null,
      confirmed_at: null,
      memo: "",
    };
    const fields = csvLine(pending, []).trimEnd().split(",");
    expect(fields.slice(15, 19)).toEqual(["", "", "", ""]);
    expect(fields.at(-1)).toBe("");
  });
});

describe("payoutToProto", () => {
  it("carries amounts as decimal strings and the network cost once known", () => {
    const p = payoutToProto(row, [attempt("p-1", "aa"), attempt("p-2", "bb")]);
    expect(p.state).toBe(PayoutState.CONFIRMED);
    expect(p.route).toBe(PayoutRoute.V0);
    expect(p.kind).toBe(OperationKind.PAYOUT);
    expect(p.amount).toMatchObject({ asset: Asset.USDT, value: "12.5" });
    expect(p.networkCost).toMatchObject({ trxBurned: "1.1", energyUsed: 65_000n });
    expect(p.attempts.map((a) => a.txId)).toEqual(["aa"]);
    expect(p.memo).toBe('rent, "march"');
    const pending = payoutToProto({ ...row, fee_sun: null, memo: "", confirmed_at: null }, []);
    expect(pending.networkCost).toBeUndefined();
    expect(pending.memo).toBeUndefined();
    expect(pending.confirmedAt).toBeUndefined();
  });
});

describe("exportPayouts on a real database", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
  });

  const all = async (format: "CSV" | "JSONL", from = 0, to = T) => {
    const chunks: ExportChunk[] = [];
    for await (const c of exportPayouts(db.pool, { format, from, to, states: [], routes: [] }))
      chunks.push(c);
    return chunks;
  };

  it("refuses an empty time range", async () => {
    await expect(all("CSV", T, T)).rejects.toMatchObject({ reason: "request.invalid" });
  });

  it("sends the CSV header alone, and nothing for JSONL, when no payout matches", async () => {
    expect(await all("CSV")).toEqual([
      { data: `${CSV_COLUMNS.join(",")}\r\n`, rowCount: 0, done: true },
    ]);
    expect(await all("JSONL")).toEqual([{ data: "", rowCount: 0, done: true }]);
  });
});
