import { describe, expect, it } from "vitest";
import { blockNumberOfId, refBlockFromBlockId } from "../tron/block.js";
import { Chain } from "./chain.js";
import type { StateMap } from "./store.js";

const WITNESS = `41${"ab".repeat(20)}`;
const T0 = 1_700_000_000_000;

function newChain(solidLag = 2): Chain {
  const genesis: StateMap = new Map([["k", 1]]);
  return Chain.genesis(genesis, WITNESS, { blockTimeMs: 3000, solidLag }, T0);
}

describe("Chain", () => {
  it("links blocks by parent id, numbers their ids and advances time by the interval", () => {
    const chain = newChain();
    const b1 = chain.produce(T0);
    const b2 = chain.produce(T0);
    expect(b1.parentHash).toBe(chain.block(0)?.id);
    expect(b2.parentHash).toBe(b1.id);
    expect(blockNumberOfId(b2.id)).toBe(2n);
    expect(b2.timestamp - b1.timestamp).toBe(3000);
  });

  it("accepts a TaPoS reference to a recent block and refuses a wrong hash", () => {
    const chain = newChain();
    for (let i = 0; i < 5; i++) chain.produce(T0);
    const b3 = chain.block(3)!;
    const ref = refBlockFromBlockId(3n, b3.id);
    expect(chain.taposMatches(ref.refBlockBytes, ref.refBlockHash)).toBe(true);
    const wrong = new Uint8Array(ref.refBlockHash);
    wrong[0] = (wrong[0] ?? 0) ^ 1;
    expect(chain.taposMatches(ref.refBlockBytes, wrong)).toBe(false);
    const future = refBlockFromBlockId(9n, b3.id);
    expect(chain.taposMatches(future.refBlockBytes, future.refBlockHash)).toBe(false);
  });

  it("applies a block's writes to the solidified state only once it is solidLag deep", () => {
    const chain = newChain(2);
    chain.enqueue({ writes: [["k", 2]] });
    chain.data.head.set("k", 2);
    chain.produce(T0);
    chain.produce(T0);
    expect(chain.data.solid.get("k")).toBe(1);
    chain.produce(T0);
    expect(chain.solidHeight).toBe(1);
    expect(chain.data.solid.get("k")).toBe(2);
  });

  it("holds the solidified height while stalled and catches up after", () => {
    const chain = newChain(1);
    chain.produce(T0);
    chain.solidStalled = true;
    for (let i = 0; i < 4; i++) chain.produce(T0);
    expect(chain.solidHeight).toBe(0);
    chain.solidStalled = false;
    chain.advanceSolid();
    expect(chain.solidHeight).toBe(4);
  });

  it("jumps the next block's timestamp by an advanced clock", () => {
    const chain = newChain();
    const before = chain.produce(T0);
    chain.advanceClock(86_400_000);
    expect(chain.produce(T0).timestamp - before.timestamp).toBe(86_400_000 + 3000);
  });
});
