import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startDevnet } from "../../src/devnet/devnet.js";
import { loadChain } from "../../src/devnet/persist.js";
import { createLogger } from "../../src/shared/log.js";
import { newTestAccount, startTestDevnet, TRX } from "./helpers.js";

describe("devnet persistence", () => {
  it("restarts from its state file with balances, blocks and transactions kept", async () => {
    const first = await startTestDevnet();
    const stateFile = join(first.dataDir, "state.json");
    await first.stop({ keepData: true });
    // Same data dir (same generated genesis key), now with a state file.
    const a = await startTestDevnet({ dataDir: first.dataDir, stateFile });
    const holder = a.fundedAccount(50n * TRX, 9_000_000n);
    const recipient = newTestAccount();
    const c = await a.tronWeb(holder.privateKey).contract().at(a.devnet.usdtAddress);
    const id = await c.transfer(recipient.address, 4_000_000).send({ feeLimit: 30_000_000 });
    a.solidify();
    const snap = await fetch(`${a.devnet.url}/admin/snapshot`, { method: "POST" });
    expect(await snap.json()).toEqual({ file: stateFile });
    expect(loadChain(stateFile)?.blocks.length).toBe(a.devnet.node.chain.head.number + 1);
    const pooled = await a.tronWeb().trx.sendTransaction(recipient.address, 2_000_000);
    const head = a.devnet.node.chain.head;
    const holderTrx = await a.tronWeb().trx.getBalance(holder.address);
    await a.stop({ keepData: true });

    const b = await startTestDevnet({ dataDir: first.dataDir, stateFile });
    try {
      expect(b.devnet.genesis.address).toBe(a.devnet.genesis.address);
      const tw = b.tronWeb();
      expect((await tw.trx.getBlockByNumber(head.number)).blockID).toBe(head.id);
      expect(await tw.trx.getBalance(holder.address)).toBe(holderTrx);
      const cb = await tw.contract().at(b.devnet.usdtAddress);
      expect(BigInt((await cb.balanceOf(recipient.address).call()).toString())).toBe(4_000_000n);
      expect((await tw.trx.getTransactionInfo(id)).receipt.result).toBe("SUCCESS");
      // A transaction pooled at shutdown is included after the restart.
      b.solidify();
      expect((await tw.trx.getTransactionInfo(pooled.transaction.txID)).id).toBe(
        pooled.transaction.txID,
      );
      expect(await tw.trx.getBalance(recipient.address)).toBe(2_000_000);
    } finally {
      await b.stop();
    }
  });

  it("generates the genesis key into a 0600 file in the data dir and does not log it", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tronpay-devnet-"));
    const lines: string[] = [];
    const log = createLogger({
      name: "devnet",
      level: "debug",
      destination: { write: (l: string) => lines.push(l) },
    });
    const devnet = await startDevnet({ port: 0, autoMine: false, dataDir }, log);
    try {
      const keyFile = devnet.genesis.keyFile as string;
      expect(keyFile).toBe(join(dataDir, "genesis.key"));
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(readFileSync(keyFile, "utf8").trim()).toBe(devnet.genesis.privateKey);
      expect(lines.join("\n")).toContain(keyFile);
      expect(lines.join("\n")).not.toContain(devnet.genesis.privateKey);
    } finally {
      await devnet.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
