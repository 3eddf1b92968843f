import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type CommonQueryMethods, type FragmentSqlToken, sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { exportPayouts } from "../../src/core/payouts/export.js";
import { listPayouts } from "../../src/core/payouts/queries.js";
import { insertPayout } from "../../src/core/payouts/repo.js";
import { payoutStats } from "../../src/core/payouts/stats.js";
import { PageRequestSchema } from "../../src/gen/tronpay/v1/common_pb.js";
import {
  ListPayoutsRequestSchema,
  PayoutRoute,
  PayoutState,
} from "../../src/gen/tronpay/v1/payout_pb.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { seedPayouts, seedVariety, type Variety } from "../helpers/seed-payouts.js";

// Listing, statistics and export over a varied seed of 30,000 payouts, checked against plain
// SQL written here (no index, no cursor: every match, sorted) and against PostgreSQL's own
// count of the tuples each page read.

const STORED = 30_000;
const DAY = 86_400_000;
let db: TestDatabase;
let v: Variety;

beforeAll(async () => {
  db = await createTestDatabase();
  v = await seedVariety(db.pool, { wallets: 5, payees: 20, recipients: 300, batches: 3, tag: "t" });
  await seedPayouts(db.pool, {
    ...{ walletId: "", ownerAddress: "", recipientAddress: "" },
    ...{ total: STORED, today: 500, days: 60, tag: "t", variety: v },
  });
}, 180_000);

afterAll(async () => {
  await db?.drop();
});

interface Case {
  name: string;
  req: MessageInitShape<typeof ListPayoutsRequestSchema>;
  /** The same filter in plain SQL over operations o and payouts p. */
  where: FragmentSqlToken;
}

const now = Date.now();
const cases = (): Case[] => [
  { name: "no filter", req: {}, where: sql.fragment`true` },
  {
    name: "one state",
    req: { states: [PayoutState.FAILED] },
    where: sql.fragment`o.state = 'FAILED'`,
  },
  {
    name: "two states",
    req: { states: [PayoutState.QUEUED, PayoutState.HELD] },
    where: sql.fragment`o.state IN ('QUEUED', 'HELD')`,
  },
  {
    name: "one route",
    req: { routes: [PayoutRoute.DIRECT] },
    where: sql.fragment`p.route = 'DIRECT'`,
  },
  {
    name: "two routes and two states",
    req: {
      routes: [PayoutRoute.KYC, PayoutRoute.DIRECT],
      states: [PayoutState.CONFIRMED, PayoutState.CANCELLED],
    },
    where: sql.fragment`p.route IN ('KYC', 'DIRECT') AND o.state IN ('CONFIRMED', 'CANCELLED')`,
  },
  {
    name: "wallet",
    req: { walletId: v.wallets[2]?.id },
    where: sql.fragment`o.wallet_id = ${v.wallets[2]?.id ?? ""}`,
  },
  {
    name: "payee tag",
    req: { payeeTag: v.payees[3]?.tag },
    where: sql.fragment`p.payee_tag = ${v.payees[3]?.tag ?? ""}`,
  },
  {
    name: "recipient",
    req: { recipientAddress: v.recipients[4] },
    where: sql.fragment`o.counterparty_address = ${v.recipients[4] ?? ""}`,
  },
  {
    name: "batch",
    req: { batchId: v.batches[1] },
    where: sql.fragment`p.batch_id = ${v.batches[1] ?? ""}`,
  },
  {
    name: "client reference",
    req: { clientReference: "inv-t-1234" },
    where: sql.fragment`p.client_reference = 'inv-t-1234'`,
  },
  {
    name: "created in a week, with a route",
    req: {
      created: {
        startTime: timestampFromMs(now - 20 * DAY),
        endTime: timestampFromMs(now - 13 * DAY),
      },
      routes: [PayoutRoute.V0],
    },
    where: sql.fragment`o.created_at >= to_timestamp(${(now - 20 * DAY) / 1000})
      AND o.created_at < to_timestamp(${(now - 13 * DAY) / 1000}) AND p.route = 'V0'`,
  },
  {
    name: "wallet and a rare state",
    req: { walletId: v.wallets[1]?.id, states: [PayoutState.FAILED, PayoutState.SIGNED] },
    where: sql.fragment`o.wallet_id = ${v.wallets[1]?.id ?? ""} AND o.state IN ('FAILED', 'SIGNED')`,
  },
  {
    name: "wallet and state",
    req: { walletId: v.wallets[0]?.id, states: [PayoutState.CONFIRMED] },
    where: sql.fragment`o.wallet_id = ${v.wallets[0]?.id ?? ""} AND o.state = 'CONFIRMED'`,
  },
];

/** A ListPayouts request: a case's filter and one page. */
function request(req: Case["req"], page: { pageSize: number; pageToken?: string }) {
  const r = create(ListPayoutsRequestSchema, req);
  r.page = create(PageRequestSchema, page);
  return r;
}

const reference = (where: FragmentSqlToken) =>
  db.pool.anyFirst(sql.type(z.object({ id: z.string() }))`
    SELECT o.id FROM operations o JOIN payouts p ON p.id = o.id WHERE ${where}
    ORDER BY o.created_at DESC, o.id DESC`);

/** Every page of a listing, in order. */
async function allPages(req: Case["req"], pageSize: number, between?: () => Promise<void>) {
  const ids: string[] = [];
  let pageToken = "";
  for (;;) {
    const page = await listPayouts(db.pool, request(req, { pageSize, pageToken }));
    ids.push(...page.payouts.map((p) => p.id));
    pageToken = page.page?.nextPageToken ?? "";
    if (pageToken === "") return ids;
    await between?.();
  }
}

/** Tuples of operations and payouts PostgreSQL read (by scan or index fetch) during `run`. */
async function tuplesRead(run: (conn: CommonQueryMethods) => Promise<unknown>): Promise<bigint> {
  return db.pool.connect(async (conn) => {
    const count = async () => {
      await conn.query(sql.unsafe`SELECT pg_stat_force_next_flush()`);
      await conn.query(sql.unsafe`SELECT 1`);
      await conn.query(sql.unsafe`SELECT pg_stat_clear_snapshot()`);
      return conn.oneFirst(sql.type(z.object({ n: z.bigint() }))`
        SELECT sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::bigint AS n
        FROM pg_stat_user_tables WHERE relname IN ('operations', 'payouts')`);
    };
    const before = await count();
    await run(conn);
    return (await count()) - before;
  });
}

describe("ListPayouts over 30,000 payouts", () => {
  it("pages through every filter exactly as the plain query lists it", async () => {
    for (const c of cases()) {
      const expected = await reference(c.where);
      expect(expected.length, c.name).toBeGreaterThan(0);
      const got = await allPages(c.req, expected.length > 2000 ? 500 : 37);
      expect(got, c.name).toEqual([...expected]);
    }
  }, 120_000);

  it("reads about a page of tuples for the first page and for a deep one, whatever the filter", async () => {
    for (const c of cases()) {
      const expected = await reference(c.where);
      const first = await tuplesRead((conn) => listPayouts(conn, request(c.req, { pageSize: 50 })));
      // A cursor at the middle of the matches: the page after it.
      const mid = Math.floor(expected.length / 2);
      const tokenPage = await listPayouts(db.pool, request(c.req, { pageSize: Math.max(1, mid) }));
      const pageToken = tokenPage.page?.nextPageToken ?? "";
      const deep = await tuplesRead((conn) =>
        listPayouts(conn, request(c.req, { pageSize: 50, pageToken })),
      );
      // A full scan reads 60,000 (both tables); an index walk a few per row returned (the
      // batch filter sorts its batch: 1,000 items at most, both tables).
      expect(first, `${c.name}, first page`).toBeLessThan(2_500n);
      expect(deep, `${c.name}, deep page`).toBeLessThan(2_500n);
    }
  }, 120_000);

  it("stays stable when payouts are created between pages: no row twice, none missed", async () => {
    for (const c of cases().slice(0, 3)) {
      const expected = await reference(c.where);
      let n = 0;
      const got = await allPages(c.req, 500, async () => {
        await db.pool.transaction((tx) => newPayout(tx, `new-${c.name}-${++n}`));
      });
      expect(n).toBeGreaterThan(0);
      // The new payouts are newer than every cursor: the pages hold what was there at the start.
      expect(got, c.name).toEqual([...expected]);
      expect(new Set(got).size).toBe(got.length);
    }
  }, 120_000);
});

async function newPayout(tx: Parameters<typeof insertPayout>[0], id: string) {
  const w = v.wallets[0] ?? { id: "", address: "" };
  await insertPayout(tx, {
    ...{ id: `po_${id}`, kind: "PAYOUT", principal: "test", idempotencyKey: id },
    ...{ walletId: w.id, ownerAddress: w.address, recipientAddress: v.recipients[0] ?? "" },
    ...{ payeeTag: null, asset: "USDT", amount: 1n, route: "V0", priority: 2, memo: "" },
    ...{ clientReference: "", metadata: {}, kycHash: null, approvalRequired: false },
    ...{ batchId: null, batchIndex: null, batchItemReference: "" },
  });
}

describe("GetPayoutStats and ExportPayouts over 30,000 payouts", () => {
  const Raw = z.object({
    route: z.string(),
    state: z.string(),
    asset: z.string(),
    wallet_id: z.string(),
    amount: z.bigint(),
    fee: z.bigint(),
    created: z.number(),
    confirmed: z.number().nullable(),
    updated: z.number(),
  });

  it("counts a month by day as summing the rows one by one does, for all and for one wallet", async () => {
    const raw = await db.pool.any(sql.type(Raw)`
      SELECT p.route, o.state, o.asset, o.wallet_id, o.amount, coalesce(o.fee_sun, 0) AS fee,
             (extract(epoch FROM o.created_at) * 1000)::float8 AS created,
             (extract(epoch FROM o.confirmed_at) * 1000)::float8 AS confirmed,
             (extract(epoch FROM o.updated_at) * 1000)::float8 AS updated
      FROM operations o JOIN payouts p ON p.id = o.id`);
    const from = Math.floor((now - 40 * DAY) / DAY) * DAY + 3 * 3_600_000;
    const to = from + 30 * DAY;
    for (const walletId of ["", v.wallets[3]?.id ?? ""]) {
      const want = new Map<
        string,
        { created: number; confirmed: number; failed: number; usdt: bigint; fee: bigint }
      >();
      const lo = Math.floor(from / DAY) * DAY;
      const hi = Math.ceil(to / DAY) * DAY;
      const add = (at: number | null, route: string, f: (b: ReturnType<typeof bucket>) => void) => {
        if (at === null || at < lo || at >= hi) return;
        f(bucket(`${Math.floor(at / DAY) * DAY}|${route}`));
      };
      const bucket = (key: string) => {
        let b = want.get(key);
        if (b) return b;
        b = { created: 0, confirmed: 0, failed: 0, usdt: 0n, fee: 0n };
        want.set(key, b);
        return b;
      };
      for (const r of raw) {
        if (walletId && r.wallet_id !== walletId) continue;
        add(r.created, r.route, (b) => b.created++);
        if (r.state === "CONFIRMED")
          add(r.confirmed, r.route, (b) => {
            b.confirmed++;
            if (r.asset === "USDT") b.usdt += r.amount;
            b.fee += r.fee;
          });
        if (r.state === "FAILED")
          add(r.updated, r.route, (b) => {
            b.failed++;
            b.fee += r.fee;
          });
      }
      const got = await payoutStats(db.pool, {
        granularity: "day",
        from,
        to,
        routes: [],
        walletId,
      });
      const have = new Map(
        got.map((b) => [
          `${b.periodStart}|${b.route}`,
          {
            created: Number(b.createdCount),
            confirmed: Number(b.confirmedCount),
            failed: Number(b.failedCount),
            usdt: b.confirmedTotals.get("USDT") ?? 0n,
            fee: b.feeSun,
          },
        ]),
      );
      expect(have.size).toBeGreaterThan(60);
      expect(have).toEqual(want);
    }
  }, 60_000);

  it("exports a month with states and routes as the plain query selects it", async () => {
    const from = now - 35 * DAY;
    const to = now - 5 * DAY;
    const expected = await reference(sql.fragment`o.created_at >= to_timestamp(${from / 1000})
      AND o.created_at < to_timestamp(${to / 1000}) AND o.state IN ('CONFIRMED', 'FAILED') AND p.route = 'KYC'`);
    const ids: string[] = [];
    let last = false;
    const q = {
      format: "CSV" as const,
      from,
      to,
      states: ["CONFIRMED", "FAILED"],
      routes: ["KYC"],
    };
    for await (const chunk of exportPayouts(db.pool, q)) {
      const lines = chunk.data.split("\r\n").filter((l) => l !== "" && !l.startsWith("id,"));
      expect(lines.length).toBe(chunk.rowCount);
      ids.push(...lines.map((l) => l.split(",")[0] ?? ""));
      last = chunk.done;
    }
    expect(last).toBe(true);
    expect(expected.length).toBeGreaterThan(1000);
    expect(ids).toEqual([...expected]);
  }, 60_000);
});

describe("a payout's two created_at", () => {
  it("stay equal when the operation's is changed, so listings by either agree", async () => {
    const id = `po_t_${STORED - 1}`;
    await db.pool.query(
      sql.unsafe`UPDATE operations SET created_at = created_at - interval '3 days' WHERE id = ${id}`,
    );
    const differ = await db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM operations o JOIN payouts p ON p.id = o.id
      WHERE p.created_at <> o.created_at`);
    expect(differ).toBe(0);
  });
});
