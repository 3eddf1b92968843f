import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newTestAccount, startTestDevnet, type TestNet, TRX } from "./helpers.js";

let net: TestNet;

beforeAll(async () => {
  net = await startTestDevnet();
});
afterAll(async () => {
  await net?.stop();
});

const USDT = 1_000_000n;
const balanceOf = async (address: string) => BigInt(await net.tronWeb().trx.getBalance(address));

async function usdtBalance(address: string): Promise<bigint> {
  const c = await net.tronWeb().contract().at(net.devnet.usdtAddress);
  return BigInt((await c.balanceOf(address).call()).toString());
}

describe("devnet USDT (TRC-20) through unmodified tronweb", () => {
  it("reads decimals, symbol and a balance through contract().at()", async () => {
    const holder = net.fundedAccount(10n * TRX, 123n * USDT);
    const c = await net.tronWeb().contract().at(net.devnet.usdtAddress);
    expect(Number(await c.decimals().call())).toBe(6);
    expect(await c.symbol().call()).toBe("USDT");
    expect(await usdtBalance(holder.address)).toBe(123n * USDT);
  });

  it("transfers with .transfer().send(): 130,285 energy to a new holder, 64,285 to an existing one", async () => {
    const sender = net.fundedAccount(100n * TRX, 50n * USDT);
    const recipient = newTestAccount();
    const tw = net.tronWeb(sender.privateKey);
    const c = await tw.contract().at(net.devnet.usdtAddress);

    const first = await c.transfer(recipient.address, 10n * USDT).send({ feeLimit: 30_000_000 });
    net.devnet.admin.mine(1);
    const second = await c.transfer(recipient.address, 5n * USDT).send({ feeLimit: 30_000_000 });
    net.solidify();

    const i1 = await tw.trx.getTransactionInfo(first);
    const i2 = await tw.trx.getTransactionInfo(second);
    expect(i1.receipt.energy_usage_total).toBe(130_285);
    expect(i1.receipt.energy_fee).toBe(13_028_500);
    expect(i2.receipt.energy_usage_total).toBe(64_285);
    expect(i2.receipt.result).toBe("SUCCESS");
    expect(i2.log?.[0]?.topics[0]).toBe(
      "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
    );
    expect(await usdtBalance(recipient.address)).toBe(15n * USDT);
    expect(await usdtBalance(sender.address)).toBe(35n * USDT);
    // A TRC-20 transfer does not activate the recipient's TRX account.
    expect(await tw.trx.getAccount(recipient.address)).toEqual({});
    const burned = BigInt(i1.fee ?? 0) + BigInt(i2.fee ?? 0);
    expect(await balanceOf(sender.address)).toBe(100n * TRX - burned);
  });

  it("transfers with triggerSmartContract(txLocal) + sign + sendRawTransaction", async () => {
    const sender = net.fundedAccount(100n * TRX, 20n * USDT);
    const recipient = newTestAccount();
    const tw = net.tronWeb(sender.privateKey);
    const { transaction } = await tw.transactionBuilder.triggerSmartContract(
      net.devnet.usdtAddress,
      "transfer(address,uint256)",
      { feeLimit: 30_000_000, txLocal: true },
      [
        { type: "address", value: recipient.address },
        { type: "uint256", value: 7_000_000 },
      ],
      sender.address,
    );
    const res = await tw.trx.sendRawTransaction(await tw.trx.sign(transaction));
    expect(res.result).toBe(true);
    net.solidify();
    const tx = await tw.trx.getTransaction(transaction.txID);
    expect(tx.ret?.[0]?.contractRet).toBe("SUCCESS");
    expect(await usdtBalance(recipient.address)).toBe(7n * USDT);
    const events = await tw.event.getEventsByTransactionID(transaction.txID);
    expect(events.data?.[0]?.event_name).toBe("Transfer");
  });

  it("approves a spender, reads the allowance and lets the spender transferFrom", async () => {
    const owner = net.fundedAccount(300n * TRX, 40n * USDT);
    const spender = net.fundedAccount(300n * TRX);
    const target = newTestAccount();
    const c = await net.tronWeb(owner.privateKey).contract().at(net.devnet.usdtAddress);
    await c.approve(spender.address, 25n * USDT).send({ feeLimit: 30_000_000 });
    net.solidify();
    expect(BigInt((await c.allowance(owner.address, spender.address).call()).toString())).toBe(
      25n * USDT,
    );

    const cs = await net.tronWeb(spender.privateKey).contract().at(net.devnet.usdtAddress);
    const id = await cs
      .transferFrom(owner.address, target.address, 10n * USDT)
      .send({ feeLimit: 30_000_000 });
    net.solidify();
    expect((await net.tronWeb().trx.getTransactionInfo(id)).receipt.result).toBe("SUCCESS");
    expect(await usdtBalance(target.address)).toBe(10n * USDT);
    expect(BigInt((await c.allowance(owner.address, spender.address).call()).toString())).toBe(
      15n * USDT,
    );
  });

  it("includes a transfer above the token balance as REVERT and still burns its fee", async () => {
    const sender = net.fundedAccount(50n * TRX, 1n * USDT);
    const tw = net.tronWeb(sender.privateKey);
    const c = await tw.contract().at(net.devnet.usdtAddress);
    const id = await c.transfer(newTestAccount().address, 2n * USDT).send({ feeLimit: 30_000_000 });
    net.solidify();
    const info = await tw.trx.getTransactionInfo(id);
    expect(info.result).toBe("FAILED");
    expect(info.receipt.result).toBe("REVERT");
    expect(info.fee).toBeGreaterThan(0);
    expect(await usdtBalance(sender.address)).toBe(1n * USDT);
    expect(await balanceOf(sender.address)).toBe(50n * TRX - BigInt(info.fee ?? 0));
  });

  it("includes a call whose fee_limit is too low as OUT_OF_ENERGY and burns the whole fee_limit", async () => {
    const sender = net.fundedAccount(50n * TRX, 10n * USDT);
    const tw = net.tronWeb(sender.privateKey);
    const c = await tw.contract().at(net.devnet.usdtAddress);
    const id = await c.transfer(newTestAccount().address, 1n * USDT).send({ feeLimit: 1_000_000 });
    net.solidify();
    const info = await tw.trx.getTransactionInfo(id);
    expect(info.blockNumber).toBeGreaterThan(0);
    expect(info.result).toBe("FAILED");
    expect(info.receipt.result).toBe("OUT_OF_ENERGY");
    expect(info.receipt.energy_fee).toBe(1_000_000);
    expect(await usdtBalance(sender.address)).toBe(10n * USDT);
    expect(await balanceOf(sender.address)).toBe(50n * TRX - BigInt(info.fee ?? 0));
    expect((await tw.trx.getTransaction(id)).ret?.[0]?.contractRet).toBe("OUT_OF_ENERGY");
  });

  it("estimates a transfer's energy without changing state", async () => {
    const sender = net.fundedAccount(10n * TRX, 10n * USDT);
    const tw = net.tronWeb(sender.privateKey);
    const est = await tw.transactionBuilder.estimateEnergy(
      net.devnet.usdtAddress,
      "transfer(address,uint256)",
      {},
      [
        { type: "address", value: newTestAccount().address },
        { type: "uint256", value: 1 },
      ],
      sender.address,
    );
    expect(est.energy_required).toBe(130_285);
    expect(await usdtBalance(sender.address)).toBe(10n * USDT);
  });
});
