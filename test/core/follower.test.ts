import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { BlockTransfers, Chain, ChainTransfer } from "../../src/core/chain/types.js";
import { recordTransfer } from "../../src/core/incoming/repo.js";
import { startFollower } from "../../src/core/incoming/scanner.js";
import { toBase58 } from "../../src/shared/address.js";
import { createLogger } from "../../src/shared/log.js";
import { addressFromPrivateKey } from "../../src/tron/keys.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

const address = () => toBase58(addressFromPrivateKey(secp256k1.utils.randomSecretKey()));
const ours = address();
const stranger = address();

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(sql.unsafe`
    INSERT INTO wallets (id, address, label, purpose) VALUES ('wal_f', ${ours}, 'f', 'HOT')`);
});
afterAll(async () => {
  await db?.drop();
});

function transfer(n: bigint, from: string, to: string, logIndex = 0): ChainTransfer {
  return {
    asset: "USDT",
    txId: n.toString(16).padStart(64, "0"),
    logIndex,
    from,
    to,
    amount: n * 1_000_000n,
    blockNumber: n,
    blockTime: 1_700_000_000_000 + Number(n) * 3_000,
    result: "SUCCESS",
  };
}

/** A chain of `height` solidified blocks; block n holds one transfer to us when n % 3 = 0. */
function fakeChain(height: { solid: bigint }): Chain {
  const blockOf = (n: bigint): BlockTransfers | undefined => {
    if (n > height.solid) return undefined;
    const transfers =
      n % 3n === 0n ? [transfer(n, stranger, ours)] : [transfer(n, stranger, stranger)];
    return {
      block: { number: n, id: "", timestamp: 0, parentId: "", witness: "", transactionCount: 1 },
      transfers,
    };
  };
  return {
    solidified: async () => ({ number: height.solid, id: "", timestamp: 0 }),
    blockTransfers: async (n: bigint) => blockOf(n),
  } as unknown as Chain;
}

const count = () =>
  db.pool.oneFirst(
    sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM chain_transfers`,
  );

describe("the block follower", () => {
  it("starts at the solidified head, records only our transfers, and resumes after a restart", async () => {
    const height = { solid: 10n };
    const log = createLogger({ name: "t", level: "silent" });
    const deps = { pool: db.pool, chain: fakeChain(height), log, pollMs: 60_000, autostart: false };
    const first = startFollower(deps);
    await first.round(); // the first round only places the cursor at block 10
    height.solid = 25n;
    expect(await first.round()).toBe(15);
    // Blocks 12, 15, 18, 21, 24 held transfers to our wallet; the others are strangers'.
    expect(await count()).toBe(5);
    height.solid = 31n;
    const second = startFollower(deps);
    expect(await second.round()).toBe(6);
    expect(await count()).toBe(7);
    expect(await second.round()).toBe(0);
  });

  it("records the blocks it could read before a failed read, and the rest on the next round", async () => {
    await db.pool.query(sql.unsafe`DELETE FROM follower_cursor`);
    const height = { solid: 100n };
    const chain = fakeChain(height);
    const failing = new Set([104n]);
    const flaky = {
      ...chain,
      blockTransfers: async (n: bigint) => {
        if (failing.has(n)) throw new Error("HTTP 503");
        return chain.blockTransfers(n);
      },
    } as Chain;
    const log = createLogger({ name: "t", level: "silent" });
    const follower = startFollower({
      pool: db.pool,
      chain: flaky,
      log,
      pollMs: 60_000,
      autostart: false,
    });
    await follower.round(); // the cursor at 100
    height.solid = 108n;
    // 101..103 are recorded although 104 failed; the round ends there.
    expect(await follower.round()).toBe(3);
    // A round whose first read fails fails (and is logged by the loop), moving nothing.
    await expect(follower.round()).rejects.toThrow("HTTP 503");
    failing.clear();
    expect(await follower.round()).toBe(5);
  });

  it("records a transfer seen twice only once", async () => {
    const t = transfer(1_000n, ours, stranger, 2);
    const first = await db.pool.transaction((tx) => recordTransfer(tx, t));
    const again = await db.pool.transaction((tx) => recordTransfer(tx, t));
    expect([first, again]).toEqual([true, false]);
  });
});
