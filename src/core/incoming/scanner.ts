import type { DatabasePool } from "slonik";
import type { Logger } from "../../shared/log.js";
import type { Chain, ChainTransfer, TxInfo } from "../chain/types.js";
import { failpoint } from "../engine/failpoints.js";
import {
  advanceCursor,
  initCursor,
  readCursor,
  recordReceipts,
  recordTransfer,
  walletAddresses,
} from "./repo.js";

/** What the follower needs. */
export interface FollowerDeps {
  pool: DatabasePool;
  chain: Chain;
  log: Logger;
  /** Pause between rounds when caught up (ms). */
  pollMs: number;
  /** Most blocks scanned in one round. */
  maxBlocksPerRound?: number;
  /** false: no loop; rounds run only through round() (tests step it). */
  autostart?: boolean;
}

/** A running follower. */
export interface Follower {
  /** Scans what is solidified now (tests step it); returns the blocks scanned. */
  round(): Promise<number>;
  stop(): Promise<void>;
}

// Blocks read from the node at once; their transfers are still recorded in block order.
const FETCH_AHEAD = 10n;
// The longest a caught-up follower waits before it asks for the solidified head again (ms).
const MAX_IDLE_MS = 1_000;

/**
 * Records the transfers touching our wallets and the receipts of our attempts in blocks
 * from+1..to and moves the cursor from `from` to `to` (block time `toTime`), in one
 * transaction: a crash records all of them or none. False when another replica moved the
 * cursor first (nothing is written then).
 */
export async function recordBlocks(
  pool: DatabasePool,
  from: bigint,
  to: bigint,
  transfers: readonly ChainTransfer[],
  receipts: readonly TxInfo[] = [],
  toTime?: number,
): Promise<boolean> {
  return pool.transaction(async (tx) => {
    if (!(await advanceCursor(tx, from, to, toTime))) return false;
    for (const t of transfers) await recordTransfer(tx, t);
    await recordReceipts(tx, receipts);
    if (transfers.length > 0) failpoint("follower_before_commit");
    return true;
  });
}

/**
 * Scans blocks cursor+1..last, up to FETCH_AHEAD read at once and committed together with
 * their transfers and receipts, so the cursor never passes an unrecorded transfer or receipt.
 * Returns the new cursor.
 */
async function scan(deps: FollowerDeps, cursor: bigint, last: bigint, stopped: () => boolean) {
  let committed = cursor;
  while (!stopped() && committed < last) {
    // Read per chunk: a wallet created while the follower runs is matched from the next chunk.
    const ours = await walletAddresses(deps.pool);
    const numbers: bigint[] = [];
    for (let n = committed + 1n; n <= last && n <= committed + FETCH_AHEAD; n++) numbers.push(n);
    // A failed read ends the chunk there: the blocks read before it are still recorded (a
    // flaky node slows the follower down instead of stopping it), the rest are read again.
    const blocks = await Promise.all(
      numbers.map((n) => deps.chain.blockTransfers(n).catch((err: unknown) => ({ err }))),
    );
    const mine: ChainTransfer[] = [];
    const receipts: TxInfo[] = [];
    let end = committed;
    let endTime: number | undefined;
    for (const found of blocks) {
      if (found && "err" in found) {
        if (end === committed) throw found.err;
        break;
      }
      if (!found) break;
      mine.push(...found.transfers.filter((t) => ours.has(t.from) || ours.has(t.to)));
      receipts.push(...(found.receipts ?? []));
      end = found.block.number;
      endTime = found.block.timestamp;
    }
    if (end === committed) return committed;
    if (!(await recordBlocks(deps.pool, committed, end, mine, receipts, endTime))) return committed;
    committed = end;
    if (end < (numbers.at(-1) ?? end)) return committed;
  }
  return committed;
}

/**
 * Follows solidified blocks from the stored cursor (the solidified head on a first start,
 * since no wallet existed before), recording every TRX and USDT transfer touching a tronpay
 * wallet. Solidified blocks never change, so a rescan can only find the same rows.
 */
export function startFollower(deps: FollowerDeps): Follower {
  let stopped = false;
  let wake: (() => void) | undefined;
  // The block interval seen in the solidified blocks (ms): a caught-up follower asks for the
  // next one a third of an interval later, no sooner than pollMs (a 3 s chain: once a second,
  // instead of every poll for blocks that come every 3 s).
  let seen: { number: bigint; timestamp: number } | undefined;
  let blockMs = 0;
  const idleMs = () => Math.max(deps.pollMs, Math.min(MAX_IDLE_MS, Math.floor(blockMs / 3)));
  const round = async (): Promise<number> => {
    const cursor = await readCursor(deps.pool);
    const head = await deps.chain.solidified();
    if (seen && head.number > seen.number && head.timestamp > seen.timestamp)
      blockMs = (head.timestamp - seen.timestamp) / Number(head.number - seen.number);
    seen = { number: head.number, timestamp: head.timestamp };
    const solid = head.number;
    if (cursor === null) {
      await initCursor(deps.pool, solid);
      return 0;
    }
    const max = cursor + BigInt(deps.maxBlocksPerRound ?? 200);
    const last = solid < max ? solid : max;
    if (last <= cursor) return 0;
    return Number((await scan(deps, cursor, last, () => stopped)) - cursor);
  };
  const loop = async () => {
    while (!stopped) {
      let scanned = 0;
      try {
        scanned = await round();
      } catch (err) {
        deps.log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          "follower round failed",
        );
      }
      if (stopped) break;
      if (scanned === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, idleMs());
        });
        wake = undefined;
      }
    }
  };
  const running = deps.autostart === false ? Promise.resolve() : loop();
  return {
    round,
    async stop() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}
