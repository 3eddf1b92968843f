import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import type { ChainTransfer } from "../chain/types.js";
import { emitEvent } from "../outbox.js";

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
): Promise<boolean> {
  const r = await tx.query(sql.unsafe`
    UPDATE follower_cursor SET block_number = ${to}, updated_at = now()
    WHERE name = ${CURSOR} AND block_number = ${from}`);
  return r.rowCount === 1;
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
