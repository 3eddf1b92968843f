import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import type { ChainTransfer, TxInfo } from "../chain/types.js";
import { emitEvent } from "../kernel/outbox.js";

const CURSOR = "solidified_blocks";

/** The last block whose transfers are all recorded, or null before the first scan. */
export async function readCursor(db: CommonQueryMethods): Promise<bigint | null> {
  return db.maybeOneFirst(
    sql.type(z.object({ block_number: z.bigint() }))`
      SELECT block_number FROM follower_cursor WHERE name = ${CURSOR}`,
  );
}

/** Sets the cursor the first time (a no-op when another replica did it first). */
export async function initCursor(db: CommonQueryMethods, block: bigint): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO follower_cursor (name, block_number) VALUES (${CURSOR}, ${block})
    ON CONFLICT (name) DO NOTHING`);
}

/**
 * Moves the cursor from `from` to `to`; false when it is not at `from` any more (another
 * replica recorded that block), so the caller's transaction must roll back.
 */
export async function advanceCursor(
  tx: CommonQueryMethods,
  from: bigint,
  to: bigint,
  /** The time of block `to` (ms), when known. */
  toTime?: number,
): Promise<boolean> {
  const time =
    toTime === undefined
      ? sql.fragment`block_time`
      : sql.fragment`'epoch'::timestamptz + ${toTime} * interval '1 millisecond'`;
  const r = await tx.query(sql.unsafe`
    UPDATE follower_cursor SET block_number = ${to}, block_time = ${time}, updated_at = now()
    WHERE name = ${CURSOR} AND block_number = ${from}`);
  return r.rowCount === 1;
}

/**
 * Stores the receipts of those transactions that are our attempts (any state: a receipt is a
 * fact about the chain) and makes their operations due now, so the engine settles them from
 * here. One statement each, whatever the number of receipts. Returns how many were ours.
 */
export async function recordReceipts(
  tx: CommonQueryMethods,
  receipts: readonly TxInfo[],
): Promise<number> {
  if (receipts.length === 0) return 0;
  const col = (f: (r: TxInfo) => string) => sql.array(receipts.map(f), "text");
  const stored = await tx.anyFirst(sql.type(z.object({ operation_id: z.string() }))`
    WITH r AS (
      SELECT * FROM unnest(${col((r) => r.txId)}, ${col((r) => r.blockNumber.toString())},
                           ${col((r) => r.blockTime.toString())}, ${col((r) => r.result)},
                           ${col((r) => r.feeSun.toString())}, ${col((r) => r.energyUsed.toString())},
                           ${col((r) => r.energyFeeSun.toString())}, ${col((r) => r.netUsed.toString())},
                           ${col((r) => r.netFeeSun.toString())}, ${col((r) => r.message ?? "")})
        AS r(tx_id, block_number, block_time, result, fee_sun, energy_used, energy_fee_sun, net_used,
             net_fee_sun, message)
    ), ours AS (
      INSERT INTO attempt_receipts (tx_id, block_number, block_time, result, fee_sun, energy_used,
                                    energy_fee_sun, net_used, net_fee_sun, message)
      SELECT r.tx_id, r.block_number::bigint,
             'epoch'::timestamptz + r.block_time::bigint * interval '1 millisecond', r.result,
             r.fee_sun::bigint, r.energy_used::bigint, r.energy_fee_sun::bigint, r.net_used::bigint,
             r.net_fee_sun::bigint, nullif(r.message, '')
      FROM r JOIN attempts a ON a.tx_id = r.tx_id
      ON CONFLICT (tx_id) DO NOTHING
      RETURNING tx_id
    )
    SELECT a.operation_id FROM ours JOIN attempts a ON a.tx_id = ours.tx_id ORDER BY a.operation_id`);
  if (stored.length === 0) return 0;
  // In id order, so two replicas waking the same operations never wait on each other in a cycle.
  await tx.query(sql.unsafe`
    UPDATE operations SET next_run_at = now()
    WHERE id IN (SELECT id FROM operations WHERE id = ANY(${sql.array([...stored], "text")})
                 AND state IN ('SIGNED', 'BROADCAST') ORDER BY id FOR UPDATE)`);
  return stored.length;
}

/** Addresses of every tronpay wallet. */
export async function walletAddresses(db: CommonQueryMethods): Promise<Set<string>> {
  const rows = await db.anyFirst(
    sql.type(z.object({ address: z.string() }))`SELECT address FROM wallets`,
  );
  return new Set(rows);
}

/**
 * Records a transfer once: the unique (asset, tx_id, log_index) turns a repeat into nothing,
 * and only a new row emits a transfer.detected event.
 */
export async function recordTransfer(tx: CommonQueryMethods, t: ChainTransfer): Promise<boolean> {
  const inserted = await tx.maybeOneFirst(sql.type(z.object({ id: z.bigint() }))`
    INSERT INTO chain_transfers (asset, tx_id, log_index, block_number, block_time, from_address, to_address,
                                 amount, result)
    VALUES (${t.asset}, ${t.txId}, ${t.logIndex}, ${t.blockNumber},
            'epoch'::timestamptz + ${t.blockTime} * interval '1 millisecond',
            ${t.from}, ${t.to}, ${t.amount.toString()}, ${t.result})
    ON CONFLICT (asset, tx_id, log_index) DO NOTHING
    RETURNING id`);
  if (inserted === null) return false;
  await emitEvent(tx, {
    type: "transfer.detected",
    subjectId: t.txId,
    payload: {
      asset: t.asset,
      txId: t.txId,
      logIndex: t.logIndex,
      blockNumber: t.blockNumber.toString(),
      from: t.from,
      to: t.to,
      amount: t.amount.toString(),
    },
  });
  return true;
}

/** A recorded transfer. */
export const TransferRow = z.object({
  asset: z.enum(["TRX", "USDT"]),
  tx_id: z.string(),
  log_index: z.number(),
  block_number: z.bigint(),
  block_time: z.number(),
  from_address: z.string(),
  to_address: z.string(),
  amount: z.string(),
  result: z.string(),
  id: z.bigint(),
});
export type TransferRow = z.infer<typeof TransferRow>;

/** What a transfer list asks for. */
export interface TransferFilter {
  assets: readonly ("TRX" | "USDT")[];
  /** Addresses whose transfers count (either side). */
  addresses: readonly string[];
  direction: "IN" | "OUT" | "ANY";
  startMs?: number;
  endMs?: number;
  /** Rows with an id below this (the page token), newest first. */
  beforeId?: bigint;
  limit: number;
}

/** Recorded transfers touching `addresses`, newest first (by id, which follows block order). */
export async function listTransfers(
  db: CommonQueryMethods,
  f: TransferFilter,
): Promise<TransferRow[]> {
  const addrs = sql.array([...f.addresses], "text");
  const side =
    f.direction === "IN"
      ? sql.fragment`to_address = ANY(${addrs})`
      : f.direction === "OUT"
        ? sql.fragment`from_address = ANY(${addrs})`
        : sql.fragment`(to_address = ANY(${addrs}) OR from_address = ANY(${addrs}))`;
  const rows = await db.any(sql.type(TransferRow)`
    SELECT asset, tx_id, log_index, block_number, block_time, from_address, to_address, amount::text AS amount,
           result, id
    FROM chain_transfers
    WHERE asset = ANY(${sql.array([...f.assets], "text")}) AND ${side}
      AND (${f.startMs ?? null}::bigint IS NULL OR block_time >= 'epoch'::timestamptz + ${f.startMs ?? 0} * interval '1 millisecond')
      AND (${f.endMs ?? null}::bigint IS NULL OR block_time < 'epoch'::timestamptz + ${f.endMs ?? 0} * interval '1 millisecond')
      AND (${f.beforeId ?? null}::bigint IS NULL OR id < ${f.beforeId ?? 0n})
    ORDER BY id DESC
    LIMIT ${f.limit}`);
  return [...rows];
}
