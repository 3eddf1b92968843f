import { create, toBinary } from "@bufbuild/protobuf";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { BlockHeader_rawSchema } from "../gen/protocol/block_pb.js";
import { blockIdOf } from "../tron/block.js";
import { applyWrites, type StateMap, type WriteSet } from "./store.js";
import type { TxRecord } from "./tx-record.js";

/**
 * Blocks, the transaction pool, inclusion and solidification. The head state already holds
 * the effects of pooled transactions (java-tron executes them into its pending state on
 * arrival); a block only stamps them and queues their write sets, which reach the
 * solidified state when the block is `solidLag` blocks deep.
 */

/** One produced block. */
export interface BlockRecord {
  readonly number: number;
  readonly id: string;
  readonly parentHash: string;
  readonly timestamp: number;
  readonly txTrieRoot: string;
  readonly witness: string;
  readonly txIds: readonly string[];
}

/** Something waiting for the next block: a transaction and/or state changes (admin funding). */
export interface PoolEntry {
  readonly tx?: TxRecord;
  readonly writes: WriteSet;
}

/** The chain's persisted data (see persist.ts). */
export interface ChainData {
  blocks: BlockRecord[];
  txs: Map<string, TxRecord>;
  pool: PoolEntry[];
  /** Write sets of blocks above the solidified height, by block number. */
  pendingWrites: Map<number, WriteSet[]>;
  head: StateMap;
  solid: StateMap;
  solidHeight: number;
  clockOffsetMs: number;
}

const ZERO_HASH = "00".repeat(32);
/** Lowest-order block-number bits a TaPoS reference carries; 65,536 recent blocks. */
const TAPOS_WINDOW = 65_536;

/** The chain: produces blocks and tracks what is solidified. */
export class Chain {
  blockTimeMs: number;
  solidLag: number;
  /** When set, solidification does not advance (fault injection). */
  solidStalled = false;
  private readonly listeners = new Set<(b: BlockRecord) => void>();
  /** A clock advance not yet applied: the next block is at least this much later. */
  private pendingJumpMs = 0;

  constructor(
    readonly data: ChainData,
    readonly witness: string,
    options: { blockTimeMs: number; solidLag: number },
  ) {
    this.blockTimeMs = options.blockTimeMs;
    this.solidLag = options.solidLag;
  }

  /** A new chain with a genesis block whose state is `genesis`. */
  static genesis(
    genesis: StateMap,
    witness: string,
    options: { blockTimeMs: number; solidLag: number },
    now: number,
  ): Chain {
    const data: ChainData = {
      blocks: [],
      txs: new Map(),
      pool: [],
      pendingWrites: new Map(),
      head: genesis,
      solid: new Map(genesis),
      solidHeight: 0,
      clockOffsetMs: 0,
    };
    const chain = new Chain(data, witness, options);
    data.blocks.push(chain.buildBlock(0, ZERO_HASH, now, []));
    return chain;
  }

  get head(): BlockRecord {
    return this.data.blocks[this.data.blocks.length - 1] as BlockRecord;
  }

  get solidHeight(): number {
    return this.data.solidHeight;
  }

  block(n: number): BlockRecord | undefined {
    return this.data.blocks[n];
  }

  /** The block a TaPoS reference names, when it is among the last 65,536 and matches. */
  taposMatches(refBlockBytes: Uint8Array, refBlockHash: Uint8Array): boolean {
    const head = this.head.number;
    const low = ((refBlockBytes[0] ?? 0) << 8) | (refBlockBytes[1] ?? 0);
    const n = head - ((head - low + TAPOS_WINDOW) % TAPOS_WINDOW);
    const block = this.block(n);
    return block !== undefined && block.id.slice(16, 32) === hex.encode(refBlockHash);
  }

  /** Queues an entry for the next block. */
  enqueue(entry: PoolEntry): void {
    this.data.pool.push(entry);
  }

  /** Subscribes to new blocks; returns the unsubscribe function. */
  onBlock(listener: (b: BlockRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Produces the next block from the pool and advances solidification. */
  produce(wallNow: number): BlockRecord {
    const parent = this.head;
    const timestamp = Math.max(
      parent.timestamp + this.blockTimeMs + this.pendingJumpMs,
      wallNow + this.data.clockOffsetMs,
    );
    this.pendingJumpMs = 0;
    const entries = this.data.pool;
    this.data.pool = [];
    const txs = entries.flatMap((e) => (e.tx ? [e.tx] : []));
    const block = this.buildBlock(parent.number + 1, parent.id, timestamp, txs);
    for (const tx of txs) {
      tx.blockNumber = block.number;
      tx.blockTimestamp = timestamp;
    }
    this.data.blocks.push(block);
    this.data.pendingWrites.set(
      block.number,
      entries.map((e) => e.writes),
    );
    this.advanceSolid();
    for (const l of this.listeners) l(block);
    return block;
  }

  /** Moves the solidified height up to head − lag unless stalled. */
  advanceSolid(): void {
    if (this.solidStalled) return;
    const target = Math.max(0, this.head.number - this.solidLag);
    while (this.data.solidHeight < target) {
      const n = this.data.solidHeight + 1;
      for (const w of this.data.pendingWrites.get(n) ?? []) applyWrites(this.data.solid, w);
      this.data.pendingWrites.delete(n);
      this.data.solidHeight = n;
    }
  }

  /** Shifts future block timestamps (unstake waits, lock periods) by `ms` from now on. */
  advanceClock(ms: number): void {
    this.data.clockOffsetMs += ms;
    this.pendingJumpMs += ms;
  }

  private buildBlock(
    number: number,
    parentHash: string,
    timestamp: number,
    txs: readonly TxRecord[],
  ): BlockRecord {
    const txTrieRoot = merkleRoot(txs.map((t) => hex.decode(t.leaf)));
    const raw = create(BlockHeader_rawSchema, {
      timestamp: BigInt(timestamp),
      txTrieRoot: hex.decode(txTrieRoot),
      parentHash: hex.decode(parentHash),
      number: BigInt(number),
      witnessAddress: hex.decode(this.witness),
      version: 30,
    });
    const id = blockIdOf(BigInt(number), toBinary(BlockHeader_rawSchema, raw));
    return {
      number,
      id,
      parentHash,
      timestamp,
      txTrieRoot,
      witness: this.witness,
      txIds: txs.map((t) => t.txId),
    };
  }
}

/** java-tron's transaction Merkle root: pairwise sha256 of leaf hashes, odd leaf carried up. */
export function merkleRoot(leaves: readonly Uint8Array[]): string {
  if (leaves.length === 0) return ZERO_HASH;
  let level = [...leaves];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i] as Uint8Array;
      const b = level[i + 1];
      if (!b) {
        next.push(a);
        continue;
      }
      const both = new Uint8Array(64);
      both.set(a, 0);
      both.set(b, 32);
      next.push(sha256(both));
    }
    level = next;
  }
  return hex.encode(level[0] as Uint8Array);
}
