import { type CommonQueryMethods, sql } from "slonik";
import { toBase58 } from "../../src/shared/address.js";

/** What seedPayouts stores. */
export interface Seed {
  walletId: string;
  ownerAddress: string;
  recipientAddress: string;
  /** Payouts in all. */
  total: number;
  /** Of those, created earlier today (UTC); the rest over the previous `days` days. */
  today: number;
  /** Days before today the older payouts are spread over (365 unless given). */
  days?: number;
  /** Base units per payout (a seed must leave room under the daily limit). */
  amount?: bigint;
  /** Makes ids and idempotency keys unique across seeds in one database. */
  tag?: string;
  /**
   * Traffic of many kinds instead of one (see seedVariety): payouts cycle through these
   * wallets, payees, recipients and batches, and through every state, route and asset.
   */
  variety?: Variety;
}

/** The rows a varied seed draws from, all stored already (see seedVariety). */
export interface Variety {
  wallets: { id: string; address: string }[];
  payees: { tag: string; address: string }[];
  /** Recipients of the payouts without a payee tag. */
  recipients: string[];
  /** Batch ids; every 10th payout belongs to one, 1,000 payouts a batch at most. */
  batches: string[];
}

/** A valid address made from `i` (0x41, 0x7e, zeros, then i in 4 bytes). */
export function seedAddress(i: number): string {
  const b = new Uint8Array(21);
  b[0] = 0x41;
  b[1] = 0x7e;
  new DataView(b.buffer).setUint32(17, i);
  return toBase58(b);
}

// Rows per statement: a million in one would run past core's 30 s statement timeout.
const CHUNK = 50_000;

/**
 * Stores payouts straight in SQL, INSERT … SELECT generate_series (50,000 rows a statement), as
 * traffic would have left them. Without `variety`: USDT on V0, mostly CONFIRMED, every 10th
 * FAILED, every 25th CANCELLED. With it, see seedChunkVaried. For tests and the bench: the API
 * would take hours for a million rows.
 */
export async function seedPayouts(db: CommonQueryMethods, s: Seed): Promise<void> {
  for (let from = 1; from <= s.total; from += CHUNK) {
    const to = Math.min(s.total, from + CHUNK - 1);
    if (s.variety) await seedChunkVaried(db, s, s.variety, from, to);
    else await seedChunk(db, s, from, to);
  }
  await db.query(sql.unsafe`ANALYZE operations`);
  await db.query(sql.unsafe`ANALYZE payouts`);
  await db.query(sql.unsafe`ANALYZE attempts`);
}

/** When payout `i` was created: today for the first `today`, else within `days` before. */
function createdAt(s: Seed) {
  return sql.fragment`CASE WHEN i <= ${s.today}
          THEN midnight + random() * (now() - midnight)
          ELSE midnight - interval '1 microsecond' - random() * ${s.days ?? 365} * interval '1 day' END`;
}

async function seedChunk(db: CommonQueryMethods, s: Seed, from: number, to: number) {
  const tag = s.tag ?? "seed";
  await db.query(sql.unsafe`
    WITH g AS (
      SELECT i,
        CASE WHEN i % 25 = 0 THEN 'CANCELLED' WHEN i % 10 = 0 THEN 'FAILED' ELSE 'CONFIRMED' END AS state,
        ${createdAt(s)} AS at
      FROM generate_series(${from}::int, ${to}::int) AS i,
           LATERAL (SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS midnight) m
    ), o AS (
      INSERT INTO operations (id, kind, state, asset, amount, wallet_id, owner_address, counterparty_address,
                              created_by, created_at, updated_at, confirmed_at, failure_reason, next_run_at)
      SELECT 'po_' || ${tag} || '_' || i, 'PAYOUT', state, 'USDT', ${s.amount ?? 1n}, ${s.walletId},
             ${s.ownerAddress}, ${s.recipientAddress}, 'seed', at, at,
             CASE WHEN state = 'CONFIRMED' THEN at END, CASE WHEN state = 'FAILED' THEN 'chain.revert' END, at
      FROM g
      RETURNING id, created_at
    )
    INSERT INTO payouts (id, principal, idempotency_key, route, created_at)
    SELECT id, 'seed', id, 'V0', created_at FROM o`);
}

/**
 * Wallets, payees and batches for a varied seed, stored straight in SQL: `wallets` wallet rows
 * (not on any chain: reads do not need funds), `payees` allowlisted payees, `recipients`
 * addresses and `batches` batch rows of 1,000 items. Addresses are seedAddress(i).
 */
export async function seedVariety(
  db: CommonQueryMethods,
  n: { wallets: number; payees: number; recipients: number; batches: number; tag: string },
): Promise<Variety> {
  const address = seedAddress;
  const range = (k: number) => Array.from({ length: k }, (_, i) => i);
  const wallets = range(n.wallets).map((i) => ({
    id: `wal_${n.tag}_${i}`,
    address: address(1_000_000 + i),
  }));
  const payees = range(n.payees).map((i) => ({
    tag: `${n.tag}-payee-${i}`,
    address: address(2_000_000 + i),
  }));
  const recipients = range(n.recipients).map((i) => address(3_000_000 + i));
  const batches = range(n.batches).map((i) => `pb_${n.tag}_${i}`);
  await db.query(sql.unsafe`
    INSERT INTO wallets (id, address, label, purpose)
    SELECT * FROM unnest(${sql.array(
      wallets.map((w) => w.id),
      "text",
    )}::text[], ${sql.array(
      wallets.map((w) => w.address),
      "text",
    )}::text[]) AS w(id, address), LATERAL (SELECT 'seed ' || w.id, 'PAYOUT') x`);
  await db.query(sql.unsafe`
    INSERT INTO payees (tag, address, allowlisted, address_usable_at)
    SELECT tag, address, true, now() - interval '400 days'
    FROM unnest(${sql.array(
      payees.map((p) => p.tag),
      "text",
    )}::text[], ${sql.array(
      payees.map((p) => p.address),
      "text",
    )}::text[]) AS p(tag, address)`);
  await db.query(sql.unsafe`
    INSERT INTO payout_batches (id, principal, idempotency_key, item_count, state)
    SELECT id, 'seed', id, 1000, 'COMPLETED' FROM unnest(${sql.array(batches, "text")}::text[]) AS b(id)`);
  return { wallets, payees, recipients, batches };
}

/**
 * Payouts of every kind of traffic. Payout i, with h = i·7919 mod 100 (so the cycles do not
 * line up with each other or with i): state CONFIRMED for h < 80, FAILED < 88, CANCELLED < 92,
 * BROADCAST < 95, QUEUED < 97, SIGNED, AWAITING_APPROVAL, HELD; route V0 for 70 %, KYC 20 %,
 * DIRECT 10 % (by i mod 10); USDT for 3 in 4, TRX for the 4th; wallet, payee (every 3rd payout
 * pays a payee, the others a recipient) and batch (every 10th, in order, 1,000 a batch) by
 * cycling through the variety; a client reference on every other payout. Settled and sent
 * payouts get their one attempt (INCLUDED, FAILED, BROADCAST or SIGNED) and fees.
 */
async function seedChunkVaried(
  db: CommonQueryMethods,
  s: Seed,
  v: Variety,
  from: number,
  to: number,
) {
  const tag = s.tag ?? "seed";
  const arr = (xs: string[]) => sql.fragment`${sql.array(xs, "text")}::text[]`;
  await db.query(sql.unsafe`
    WITH g AS (
      SELECT i, 'po_' || ${tag} || '_' || i AS id,
        CASE WHEN h < 80 THEN 'CONFIRMED' WHEN h < 88 THEN 'FAILED' WHEN h < 92 THEN 'CANCELLED'
             WHEN h < 95 THEN 'BROADCAST' WHEN h < 97 THEN 'QUEUED' WHEN h = 97 THEN 'SIGNED'
             WHEN h = 98 THEN 'AWAITING_APPROVAL' ELSE 'HELD' END AS state,
        CASE WHEN i % 10 < 7 THEN 'V0' WHEN i % 10 < 9 THEN 'KYC' ELSE 'DIRECT' END AS route,
        CASE WHEN i % 4 = 3 THEN 'TRX' ELSE 'USDT' END AS asset,
        (${arr(v.wallets.map((w) => w.id))})[1 + i % ${v.wallets.length}] AS wallet_id,
        (${arr(v.wallets.map((w) => w.address))})[1 + i % ${v.wallets.length}] AS owner,
        CASE WHEN i % 3 = 0 THEN (${arr(v.payees.map((p) => p.tag))})[1 + (i / 3) % ${v.payees.length}] END AS payee,
        CASE WHEN i % 3 = 0 THEN (${arr(v.payees.map((p) => p.address))})[1 + (i / 3) % ${v.payees.length}]
             ELSE (${arr(v.recipients)})[1 + i % ${v.recipients.length}] END AS recipient,
        CASE WHEN i % 10 = 3 AND i / 10000 < ${v.batches.length}
             THEN (${arr(v.batches)})[1 + i / 10000] END AS batch_id,
        CASE WHEN i % 2 = 0 THEN 'inv-' || ${tag} || '-' || i ELSE '' END AS ref,
        ${createdAt(s)} AS at
      FROM generate_series(${from}::int, ${to}::int) AS i,
           LATERAL (SELECT (i::bigint * 7919) % 100 AS h) hh,
           LATERAL (SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS midnight) m
    ), o AS (
      INSERT INTO operations (id, kind, state, asset, amount, wallet_id, owner_address, counterparty_address,
                              created_by, created_at, updated_at, confirmed_at, failure_reason, next_run_at,
                              fee_sun, energy_used, bandwidth_used, hold_reason)
      SELECT id, 'PAYOUT', state, asset, 1 + (i % 1000) * 10000, wallet_id, owner, recipient,
             'seed', at,
             CASE WHEN state IN ('CONFIRMED', 'FAILED', 'CANCELLED') THEN at + interval '30 seconds' ELSE at END,
             CASE WHEN state = 'CONFIRMED' THEN at + interval '30 seconds' END,
             CASE WHEN state = 'FAILED' THEN 'chain.revert' END, at,
             CASE WHEN state IN ('CONFIRMED', 'FAILED') THEN CASE WHEN asset = 'USDT' THEN 13844850 ELSE 268000 END END,
             CASE WHEN state IN ('CONFIRMED', 'FAILED') AND asset = 'USDT' THEN 64285 END,
             CASE WHEN state IN ('CONFIRMED', 'FAILED') THEN 345 END,
             CASE WHEN state = 'HELD' THEN 'compliance.review' END
      FROM g
      RETURNING id, created_at
    ), p AS (
      INSERT INTO payouts (id, principal, idempotency_key, route, payee_tag, client_reference, kyc_hash,
                           batch_id, batch_index, created_at)
      SELECT g.id, 'seed', CASE WHEN batch_id IS NULL THEN g.id END, route, payee, ref,
             CASE WHEN route = 'KYC' THEN encode(sha256(convert_to('kyc' || g.id, 'UTF8')), 'hex') END,
             batch_id, CASE WHEN batch_id IS NOT NULL THEN (i / 10) % 1000 END, o.created_at
      FROM g JOIN o ON o.id = g.id
      RETURNING id
    )
    INSERT INTO attempts (operation_id, attempt_no, tx_id, raw_data, signature, expiration, state,
                          broadcast_count, block_number, signed_at)
    SELECT g.id, 1, encode(sha256(convert_to(g.id, 'UTF8')), 'hex'), '\\x00'::bytea,
           decode(repeat('00', 65), 'hex'), at + interval '1 minute',
           CASE state WHEN 'CONFIRMED' THEN 'INCLUDED' WHEN 'FAILED' THEN 'FAILED' ELSE state END,
           CASE WHEN state = 'SIGNED' THEN 0 ELSE 1 END,
           CASE WHEN state IN ('CONFIRMED', 'FAILED') THEN 1000000 + i END, at
    FROM g JOIN p ON p.id = g.id WHERE state IN ('CONFIRMED', 'FAILED', 'BROADCAST', 'SIGNED')`);
}
