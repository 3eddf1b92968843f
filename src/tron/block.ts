import { create, toBinary } from "@bufbuild/protobuf";
import { sha256 } from "@noble/hashes/sha2.js";
import { BlockHeader_rawSchema } from "../gen/protocol/block_pb.js";
import type { AddressBytes } from "../shared/address.js";
import { TronDecodeError } from "./decode-error.js";
import { bytesToHex, hexToBytes } from "./hex.js";

/** TaPoS fields for a transaction that references a block. */
export interface RefBlock {
  /** The last 2 bytes of the block number, big-endian. */
  refBlockBytes: Uint8Array;
  /** Bytes 8..16 of the block id. */
  refBlockHash: Uint8Array;
}

/** The ref_block_bytes/ref_block_hash a transaction uses to reference this block. */
export function refBlockFromBlockId(blockNumber: bigint, blockId: string | Uint8Array): RefBlock {
  const id = typeof blockId === "string" ? hexToBytes(blockId, "blockId") : blockId;
  if (id.length !== 32) throw new TronDecodeError("bad_value", "block id must be 32 bytes");
  const n = numberBytes(blockNumber);
  return { refBlockBytes: n.slice(6, 8), refBlockHash: id.slice(8, 16) };
}

/**
 * A block id: sha256 of the BlockHeader.raw bytes with its first 8 bytes replaced by the
 * big-endian block number (so ids sort and reveal their height). Lowercase hex.
 */
export function blockIdOf(number: bigint, headerRawBytes: Uint8Array): string {
  const id = sha256(headerRawBytes);
  id.set(numberBytes(number), 0);
  return bytesToHex(id);
}

/** The block number a block id starts with. */
export function blockNumberOfId(blockId: string | Uint8Array): bigint {
  const id = typeof blockId === "string" ? hexToBytes(blockId, "blockId") : blockId;
  if (id.length !== 32) throw new TronDecodeError("bad_value", "block id must be 32 bytes");
  return new DataView(id.buffer, id.byteOffset, 8).getBigUint64(0);
}

function numberBytes(n: bigint): Uint8Array {
  if (typeof n !== "bigint" || n < 0n || n >= 1n << 63n) {
    throw new TronDecodeError("bad_value", "block number must be in 0..2^63-1");
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

/** The fields of a block header that go into its id. */
export interface BlockHeaderFields {
  number: bigint;
  /** Milliseconds since the epoch. */
  timestamp: bigint;
  txTrieRoot: Uint8Array;
  parentHash: Uint8Array;
  witnessAddress: AddressBytes;
  version: number;
  witnessId?: bigint;
  accountStateRoot?: Uint8Array;
}

/** BlockHeader.raw bytes (deterministic proto3) for blockIdOf. */
export function encodeBlockHeaderRaw(h: BlockHeaderFields): Uint8Array {
  return toBinary(
    BlockHeader_rawSchema,
    create(BlockHeader_rawSchema, {
      timestamp: h.timestamp,
      txTrieRoot: h.txTrieRoot,
      parentHash: h.parentHash,
      number: h.number,
      witnessId: h.witnessId ?? 0n,
      witnessAddress: h.witnessAddress,
      version: h.version,
      accountStateRoot: h.accountStateRoot ?? new Uint8Array(0),
    }),
  );
}
