import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { paymentsByRecipient, solidBalance } from "../../chaos/ledger.js";
import { Rng } from "../../chaos/rng.js";
import { parseAddress, toHex41 } from "../../src/shared/address.js";
import { newTestAccount, startTestDevnet, type TestNet, TRX } from "../devnet/helpers.js";

// The chaos harness's ledger reads payments from the devnet's chain itself; these tests pay
// through unmodified tronweb and check that the reader sees exactly what was included.
let net: TestNet;

beforeAll(async () => {
  net = await startTestDevnet({ solidLag: 2 });
});

afterAll(async () => {
  await net?.stop();
});

describe("paymentsByRecipient", () => {
  it("counts each solidified TRX and USDT payment per recipient, by txID", async () => {
    const payer = net.fundedAccount(1_000n * TRX, 50_000_000n);
    const trxTo = newTestAccount().address;
    const usdtTo = newTestAccount().address;
    const tw = net.tronWeb(payer.privateKey);
    const first = await tw.trx.sendTransaction(trxTo, 1_500_000);
    net.devnet.admin.mine(1);
    const second = await tw.trx.sendTransaction(trxTo, 2_000_000);
    const usdt = await tw.contract().at(net.devnet.usdtAddress);
    const usdtTx = await usdt.transfer(usdtTo, 7_000_000).send({ feeLimit: 30_000_000 });
    net.devnet.admin.mine(1);
    expect(paymentsByRecipient(net.devnet).get(toHex41(parseAddress(trxTo)))).toBeUndefined();

    net.solidify();
    const paid = paymentsByRecipient(net.devnet);
    const trx = paid.get(toHex41(parseAddress(trxTo))) ?? [];
    expect(trx.map((p) => p.txId).sort()).toEqual([first.txid, second.txid].sort());
    expect(trx.map((p) => p.amount).sort()).toEqual([1_500_000n, 2_000_000n]);
    expect(paid.get(toHex41(parseAddress(usdtTo)))).toEqual([
      expect.objectContaining({ txId: usdtTx, asset: "USDT", amount: 7_000_000n }),
    ]);
    expect(solidBalance(net.devnet, trxTo, "TRX")).toBe(3_500_000n);
    expect(solidBalance(net.devnet, usdtTo, "USDT")).toBe(7_000_000n);
  });
});

describe("Rng", () => {
  it("replays the same choices from the same seed", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const draw = (r: Rng) => Array.from({ length: 20 }, () => r.int(0, 1_000_000));
    const fromA = draw(a);
    expect(draw(b)).toEqual(fromA);
    expect(draw(c)).not.toEqual(fromA);
  });
});
