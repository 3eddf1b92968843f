import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newTestAccount, startTestDevnet, type TestNet, waitFor } from "./helpers.js";

let net: TestNet;

beforeAll(async () => {
  net = await startTestDevnet();
});
afterEach(() => {
  net.devnet.admin.setFaults({
    latencyMs: 0,
    errorRate: 0,
    dropRate: 0,
    timeoutRate: 0,
    stallSolidity: false,
  });
});
afterAll(async () => {
  await net?.stop();
});

async function admin(path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${net.devnet.url}/admin/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

async function signedTransfer() {
  const tw = net.tronWeb();
  return tw.trx.sign(await tw.transactionBuilder.sendTrx(newTestAccount().address, 1_000_000));
}

describe("devnet fault injection (through /admin)", () => {
  it("accepts a dropped broadcast with result:true but never includes it", async () => {
    await admin("faults", { dropRate: 1 });
    const tw = net.tronWeb();
    const signed = await signedTransfer();
    const res = await tw.trx.sendRawTransaction(signed);
    expect(res.result).toBe(true);
    net.solidify();
    net.solidify();
    expect(await tw.trx.getUnconfirmedTransactionInfo(signed.txID)).toEqual({});
    expect(await tw.trx.getTransactionInfo(signed.txID)).toEqual({});
  });

  it("includes a broadcast whose answer is lost to a dropped connection", async () => {
    await admin("faults", { timeoutRate: 1 });
    const tw = net.tronWeb();
    const signed = await signedTransfer();
    await expect(tw.trx.sendRawTransaction(signed)).rejects.toThrow();
    await admin("faults/reset", {});
    net.solidify();
    const info = await tw.trx.getTransactionInfo(signed.txID);
    expect(info.id).toBe(signed.txID);
  });

  it("answers HTTP 503 at the configured error rate but never on /admin", async () => {
    await admin("faults", { errorRate: 1 });
    const res = await fetch(`${net.devnet.url}/wallet/getnowblock`);
    expect(res.status).toBe(503);
    const status = await admin("status");
    expect(status.head).toBeTypeOf("number");
  });

  it("adds the configured latency to node answers", async () => {
    await admin("faults", { latencyMs: 150 });
    const started = Date.now();
    await fetch(`${net.devnet.url}/wallet/getnowblock`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("keeps the solidified height still while solidification is stalled", async () => {
    await admin("faults", { stallSolidity: true });
    const tw = net.tronWeb();
    const stalledAt = (await tw.trx.getConfirmedCurrentBlock()).block_header.raw_data.number;
    const sent = await tw.trx.sendTransaction(newTestAccount().address, 1_000_000);
    await admin("mine", { blocks: 10 });
    expect((await tw.trx.getConfirmedCurrentBlock()).block_header.raw_data.number).toBe(stalledAt);
    expect(await tw.trx.getTransactionInfo(sent.transaction.txID)).toEqual({});
    await admin("faults", { stallSolidity: false });
    expect((await tw.trx.getTransactionInfo(sent.transaction.txID)).id).toBe(sent.transaction.txID);
  });

  it("refuses an invalid fault setting and keeps the previous one", async () => {
    const res = await admin("faults", { dropRate: 2 });
    expect(res.Error).toBeTypeOf("string");
    expect((await admin("faults")).dropRate).toBe(0);
  });
});

describe("devnet admin and blocks", () => {
  it("funds an address with TRX and USDT over HTTP", async () => {
    const a = newTestAccount();
    await admin("fund", { address: a.address, trx: "7000000", usdt: 3_000_000, mine: 10 });
    const tw = net.tronWeb();
    expect(await tw.trx.getBalance(a.address)).toBe(7_000_000);
    const c = await tw.contract().at(net.devnet.usdtAddress);
    expect(BigInt((await c.balanceOf(a.address).call()).toString())).toBe(3_000_000n);
  });

  it("logs the loopback address of every client connection", async () => {
    await admin("connections/reset", {});
    await fetch(`${net.devnet.url}/wallet/getnowblock`);
    const log = (await admin("connections")).connections as { address: string }[];
    expect(log.map((c) => c.address)).toContain("127.0.0.1");
  });

  it("produces blocks on a timer with real parent links and advancing timestamps", async () => {
    const tw = net.tronWeb();
    const start = (await tw.trx.getCurrentBlock()).block_header.raw_data.number;
    await admin("timing", { blockTimeMs: 20, autoMine: true });
    const later = await waitFor(async () => {
      const b = await tw.trx.getCurrentBlock();
      return b.block_header.raw_data.number >= start + 3 ? b : undefined;
    });
    await admin("timing", { autoMine: false });
    const parent = await tw.trx.getBlockByNumber(later.block_header.raw_data.number - 1);
    expect(later.block_header.raw_data.parentHash).toBe(parent.blockID);
    expect(later.block_header.raw_data.timestamp).toBeGreaterThan(
      parent.block_header.raw_data.timestamp,
    );
    expect(Number.parseInt(later.blockID.slice(0, 16), 16)).toBe(
      later.block_header.raw_data.number,
    );
  });
});
