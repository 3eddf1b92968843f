import { create, toBinary } from "@bufbuild/protobuf";
import { hex } from "@scure/base";
import { describe, expect, it } from "vitest";
import { BlockHeader_rawSchema } from "../gen/protocol/block_pb.js";
import { parseAddress } from "../shared/address.js";
import { blockIdOf, blockNumberOfId, encodeBlockHeaderRaw, refBlockFromBlockId } from "./block.js";
import { MAINNET_BLOCK_78861100 as B } from "./real-transactions.fixture.js";

function headerBytes(): Uint8Array {
  return toBinary(
    BlockHeader_rawSchema,
    create(BlockHeader_rawSchema, {
      timestamp: B.timestampMs,
      txTrieRoot: hex.decode(B.txTrieRoot),
      parentHash: hex.decode(B.parentId),
      number: B.number,
      witnessAddress: parseAddress(B.witness),
      version: B.version,
    }),
  );
}

describe("blockIdOf", () => {
  it("reproduces the id of mainnet block 78861100 from its header fields", () => {
    expect(blockIdOf(B.number, headerBytes())).toBe(B.id);
  });

  it("encodeBlockHeaderRaw writes the same header bytes", () => {
    const fields = {
      number: B.number,
      timestamp: B.timestampMs,
      txTrieRoot: hex.decode(B.txTrieRoot),
      parentHash: hex.decode(B.parentId),
      witnessAddress: parseAddress(B.witness),
      version: B.version,
    };
    expect(encodeBlockHeaderRaw(fields)).toEqual(headerBytes());
    expect(blockIdOf(B.number, encodeBlockHeaderRaw(fields))).toBe(B.id);
  });

  it("puts the big-endian number in the first 8 bytes", () => {
    const id = blockIdOf(0x0102030405n, new Uint8Array(0));
    expect(id.slice(0, 16)).toBe("0000000102030405");
    expect(blockNumberOfId(id)).toBe(0x0102030405n);
    expect(blockNumberOfId(B.parentId)).toBe(B.number - 1n);
  });

  it("changes when any header byte changes", () => {
    const h = headerBytes();
    h[h.length - 1] = (h[h.length - 1] as number) ^ 1;
    expect(blockIdOf(B.number, h)).not.toBe(B.id);
  });
});

describe("refBlockFromBlockId", () => {
  it("takes the last 2 bytes of the number and bytes 8..16 of the id", () => {
    const ref = refBlockFromBlockId(B.number, B.id);
    expect(hex.encode(ref.refBlockBytes)).toBe("532c");
    expect(hex.encode(ref.refBlockHash)).toBe("bc14c910020c3ae5");
    expect(refBlockFromBlockId(B.number, hex.decode(B.id))).toEqual(ref);
  });

  it("refuses an id that is not 32 bytes", () => {
    expect(() => refBlockFromBlockId(1n, "00")).toThrow(/32 bytes/);
  });
});
