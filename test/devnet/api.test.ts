import { hex } from "@scure/base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { transactionFromJson } from "../../src/tron/json.js";
import { encodeTransaction } from "../../src/tron/transaction.js";
import { newTestAccount, startTestDevnet, type TestNet, TRX } from "./helpers.js";

let net: TestNet;

beforeAll(async () => {
  net = await startTestDevnet();
  net.devnet.admin.mine(5);
});
afterAll(async () => {
  await net?.stop();
});

async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${net.devnet.url}${path}`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

describe("devnet node API details tronweb and tronpay rely on", () => {
  it("reports the energy price and fee parameters through getChainParameters", async () => {
    const params = await net.tronWeb().trx.getChainParameters();
    const get = (key: string) => params.find((p) => p.key === key)?.value;
    expect(get("getEnergyFee")).toBe(100);
    expect(get("getTransactionFee")).toBe(1000);
    expect(get("getFreeNetLimit")).toBe(600);
    expect(get("getCreateNewAccountFeeInSystemContract")).toBe(1_000_000);
  });

  it("writes int64 values as strings when asked with int64_as_string", async () => {
    const tw = net.tronWeb();
    const balance = await tw.trx.raw.getBalance(net.devnet.genesis.address);
    expect(typeof balance).toBe("string");
    expect(BigInt(balance)).toBe(BigInt(await tw.trx.getBalance(net.devnet.genesis.address)));
  });

  it("builds a transfer server-side with createtransaction that tronweb accepts and signs", async () => {
    const tw = net.tronWeb();
    const to = newTestAccount();
    const tx = await post("/wallet/createtransaction", {
      owner_address: tw.address.toHex(net.devnet.genesis.address),
      to_address: to.address,
      amount: 3_000_000,
    });
    const signed = await tw.trx.sign(tx as never);
    expect((await tw.trx.sendRawTransaction(signed)).result).toBe(true);
    net.solidify();
    expect(await tw.trx.getBalance(to.address)).toBe(3_000_000);
  });

  it("accepts a signed transaction as protobuf hex through broadcasthex", async () => {
    const tw = net.tronWeb();
    const signed = await tw.trx.sign(
      await tw.transactionBuilder.sendTrx(newTestAccount().address, 1_000_000),
    );
    const { rawBytes, signatures } = transactionFromJson(signed);
    const res = await tw.trx.sendHexTransaction(
      hex.encode(encodeTransaction(rawBytes, signatures)),
    );
    expect(res.result).toBe(true);
    expect((res as { transaction: { txID: string } }).transaction.txID).toBe(signed.txID);
  });

  it("lists a block range and answers an unknown block, account and transaction as {}", async () => {
    const tw = net.tronWeb();
    const range = await tw.trx.getBlockRange(1, 3);
    expect(range.map((b) => b.block_header.raw_data.number)).toEqual([1, 2, 3]);
    expect(await post("/wallet/getblockbynum", { num: 1_000_000 })).toEqual({});
    expect(await post("/wallet/getaccount", { address: newTestAccount().address })).toEqual({});
    expect(await post("/wallet/gettransactionbyid", { value: "ab".repeat(32) })).toEqual({});
  });

  it("serves the USDT contract's Transfer events by contract address", async () => {
    const sender = net.fundedAccount(100n * TRX, 5_000_000n);
    const tw = net.tronWeb(sender.privateKey);
    const c = await tw.contract().at(net.devnet.usdtAddress);
    const id = await c.transfer(newTestAccount().address, 1_000_000).send({ feeLimit: 30_000_000 });
    net.solidify();
    const events = await tw.event.getEventsByContractAddress(net.devnet.usdtAddress, {
      eventName: "Transfer",
      onlyConfirmed: true,
    });
    expect(events.data?.[0]?.transaction_id).toBe(id);
    expect(events.data?.[0]?.result.value).toBe("1000000");
  });

  it("answers node info and the health check", async () => {
    const info = await net.tronWeb().trx.getNodeInfo();
    expect(String((info as { block: string }).block)).toMatch(/^Num:\d+,ID:[0-9a-f]{64}$/);
    const health = await fetch(`${net.devnet.url}/healthcheck`);
    expect(health.status).toBe(200);
    expect(await net.tronWeb().isConnected()).toEqual({
      fullNode: true,
      solidityNode: true,
      eventServer: true,
    });
  });
});

describe("devnet visible=true", () => {
  it("writes addresses in base58 when the request sets visible", async () => {
    const account = await post("/wallet/getaccount", {
      address: net.devnet.genesis.address,
      visible: true,
    });
    expect(account.address).toBe(net.devnet.genesis.address);
  });
});
