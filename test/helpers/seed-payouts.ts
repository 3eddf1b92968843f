import { type CommonQueryMethods, sql } from "slonik";

/** What seedPayouts stores. */
export interface Seed {
  walletId: string;
  ownerAddress: string;
  recipientAddress: string;
  /** Payouts in all. */
  total: number;
  /** Of those, created earlier today (UTC); the rest over the previous year. */
  today: number;
  /** Base units per payout (a seed must leave room under the daily limit). */
  amount?: bigint;
  /** Makes ids and idempotency keys unique across seeds in one database. */
  tag?: string;
}

// Rows per statement: a million in one would run past core's 30 s statement timeout.
const CHUNK = 50_000;

/**
 * Stores payouts straight in SQL, INSERT … SELECT generate_series (50,000 rows a statement), as
 * traffic would have left them: USDT on V0, mostly CONFIRMED, every 10th FAILED, every 25th
 * CANCELLED. For tests and the bench: the API would take hours for a million rows.
 */
export async function seedPayouts(db: CommonQueryMethods, s: Seed): Promise<void> {
  for (let from = 1; from <= s.total; from += CHUNK)
    await seedChunk(db, s, from, Math.min(s.total, from + CHUNK - 1));
  await db.query(sql.unsafe`ANALYZE operations`);
  await db.query(sql.unsafe`ANALYZE payouts`);
}

async function seedChunk(db: CommonQueryMethods, s: Seed, from: number, to: number) {
  const tag = s.tag ?? "seed";
  await db.query(sql.unsafe`
    WITH g AS (
      SELECT i,
        CASE WHEN i % 25 = 0 THEN 'CANCELLED' WHEN i % 10 = 0 THEN 'FAILED' ELSE 'CONFIRMED' END AS state,
        CASE WHEN i <= ${s.today}
          THEN midnight + random() * (now() - midnight)
          ELSE midnight - interval '1 microsecond' - random() * interval '365 days' END AS at
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
