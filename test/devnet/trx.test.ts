import { hex } from "@scure/base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAddress } from "../../src/shared/address.js";
import { refBlockFromBlockId } from "../../src/tron/block.js";
import { transactionToJson } from "../../src/tron/json.js";
import { signTxId } from "../../src/tron/signature.js";
import { encodeTransactionRaw, txIdOf } from "../../src/tron/transaction.js";
import { messageText, newTestAccount, startTestDevnet, type TestNet, TRX } from "./helpers.js";

let net: TestNet;

beforeAll(async () => {
  net = await startTestDevnet();
});
afterAll(async () => {
  await net?.stop();
});

const balanceOf = async (address: string) => BigInt(await net.tronWeb().trx.getBalance(address));

/** Bandwidth java-tron charges: the signed transaction's size plus 64 (TRON.md). */
function chargedBytes(rawHex: string): bigint {
  const rawLen = rawHex.length / 2;
  const varintLen = rawLen < 128 ? 1 : 2;
  return BigInt(1 + varintLen + rawLen + (1 + 1 + 65) + 64);
}

describe("devnet TRX transfers through unmodified tronweb", () => {
  it("activates a new recipient and burns 1 TRX plus 0.1 TRX of bandwidth", async () => {
    const sender = net.fundedAccount(100n * TRX);
    const recipient = newTestAccount();
    const tw = net.tronWeb(sender.privateKey);
    expect(await tw.trx.getAccount(recipient.address)).toEqual({});

    const sent = await tw.trx.sendTransaction(recipient.address, 5_000_000);
    expect(sent.result).toBe(true);
    net.solidify();

    const info = await tw.trx.getTransactionInfo(sent.transaction.txID);
    expect(info.fee).toBe(1_100_000);
    expect(info.receipt).toEqual({ net_fee: 100_000 });
    expect(await balanceOf(recipient.address)).toBe(5n * TRX);
    expect(await balanceOf(sender.address)).toBe(100n * TRX - 5n * TRX - 1_100_000n);
    const account = await tw.trx.getAccount(recipient.address);
    expect(account.create_time).toBeGreaterThan(0);
  });

  it("pays an existing recipient with free bandwidth, then burns 1,000 sun per byte past 600", async () => {
    const sender = net.fundedAccount(100n * TRX);
    const recipient = net.fundedAccount(1n * TRX);
    const tw = net.tronWeb(sender.privateKey);

    const ids: string[] = [];
    // Distinct amounts: identical transfers built in the same millisecond share a txID.
    for (let i = 0; i < 3; i++) {
      const sent = await tw.trx.sendTransaction(recipient.address, 1_000_000 + i);
      expect(sent.result).toBe(true);
      ids.push(sent.transaction.txID);
    }
    net.solidify();
    const infos = await Promise.all(ids.map((id) => tw.trx.getTransactionInfo(id)));
    const txs = await Promise.all(ids.map((id) => tw.trx.getTransaction(id)));

    expect(infos[0]?.fee).toBeUndefined();
    expect(BigInt(infos[0]?.receipt.net_usage ?? 0)).toBe(chargedBytes(txs[0]!.raw_data_hex));
    expect(BigInt(infos[1]?.receipt.net_usage ?? 0)).toBe(chargedBytes(txs[1]!.raw_data_hex));
    const burned = chargedBytes(txs[2]!.raw_data_hex) * 1000n;
    expect(BigInt(infos[2]?.receipt.net_fee ?? 0)).toBe(burned);
    expect(await balanceOf(sender.address)).toBe(100n * TRX - 3n * TRX - 3n - burned);
    expect(await balanceOf(recipient.address)).toBe(4n * TRX + 3n);
    expect(txs[2]?.ret?.[0]?.contractRet).toBe("SUCCESS");
  });

  it("burns the 1 TRX memo fee for a transfer carrying a memo", async () => {
    const sender = net.fundedAccount(10n * TRX);
    const recipient = net.fundedAccount(1n * TRX);
    const tw = net.tronWeb(sender.privateKey);
    const tx = await tw.transactionBuilder.sendTrx(recipient.address, 1_000_000, sender.address);
    const withMemo = await tw.transactionBuilder.addUpdateData(tx, "invoice 42", "utf8", {
      txLocal: true,
    });
    expect((await tw.trx.sendRawTransaction(await tw.trx.sign(withMemo))).result).toBe(true);
    net.solidify();
    const info = await tw.trx.getTransactionInfo(withMemo.txID);
    expect(info.fee).toBe(1_000_000);
    expect(await balanceOf(sender.address)).toBe(10n * TRX - 1n * TRX - 1_000_000n);
  });

  it("answers walletsolidity reads (transaction info, account) only once the block is solidified", async () => {
    const tw = net.tronWeb();
    const recipient = newTestAccount();
    const sent = await tw.trx.sendTransaction(recipient.address, 1_000_000);
    net.devnet.admin.mine(1);
    expect(await tw.trx.getTransactionInfo(sent.transaction.txID)).toEqual({});
    expect(await tw.trx.getAccount(recipient.address)).toEqual({});
    expect(await tw.trx.getUnconfirmedBalance(recipient.address)).toBe(1_000_000);
    const unconfirmed = await tw.trx.getUnconfirmedTransactionInfo(sent.transaction.txID);
    expect(unconfirmed.id).toBe(sent.transaction.txID);
    net.devnet.admin.mine(net.devnet.node.chain.solidLag);
    const solid = await tw.trx.getTransactionInfo(sent.transaction.txID);
    expect(solid.blockNumber).toBe(unconfirmed.blockNumber);
    expect(await tw.trx.getBalance(recipient.address)).toBe(1_000_000);
  });
});

describe("devnet broadcast refusals", () => {
  it("refuses a transaction signed by a key other than the owner's with SIGERROR", async () => {
    const tw = net.tronWeb();
    const tx = await tw.transactionBuilder.sendTrx(newTestAccount().address, 1_000_000);
    const stranger = hex.decode(newTestAccount().privateKey);
    const signature = hex.encode(signTxId(tx.txID, stranger));
    const res = await tw.trx.sendRawTransaction({ ...tx, signature: [signature] });
    expect(res.code).toBe("SIGERROR");
    expect(res.txid).toBe(tx.txID);
  });

  it("refuses a transaction whose expiration has passed at the head block", async () => {
    const tw = net.tronWeb();
    const signed = await tw.trx.sign(
      await tw.transactionBuilder.sendTrx(newTestAccount().address, 1),
    );
    net.devnet.admin.advanceClock(120_000);
    const res = await tw.trx.sendRawTransaction(signed);
    expect(res.code).toBe("TRANSACTION_EXPIRATION_ERROR");
  });

  it("refuses a reference block that does not match the chain with TAPOS_ERROR", async () => {
    const tw = net.tronWeb();
    const head = net.devnet.node.chain.head;
    const tx = await tw.transactionBuilder.sendTrx(newTestAccount().address, 1, undefined, {
      blockHeader: {
        ref_block_bytes: (head.number & 0xffff).toString(16).padStart(4, "0"),
        ref_block_hash: "0123456789abcdef",
        expiration: head.timestamp + 60_000,
        timestamp: head.timestamp,
      },
    });
    const res = await tw.trx.sendRawTransaction(await tw.trx.sign(tx));
    expect(res.code).toBe("TAPOS_ERROR");
  });

  it("refuses the same signed transaction twice with DUP_TRANSACTION_ERROR", async () => {
    const tw = net.tronWeb();
    const signed = await tw.trx.sign(
      await tw.transactionBuilder.sendTrx(newTestAccount().address, 1_000_000),
    );
    expect((await tw.trx.sendRawTransaction(signed)).result).toBe(true);
    const again = await tw.trx.sendRawTransaction(signed);
    expect(again.code).toBe("DUP_TRANSACTION_ERROR");
    net.devnet.admin.mine(1);
    expect((await tw.trx.sendRawTransaction(signed)).code).toBe("DUP_TRANSACTION_ERROR");
  });

  it("refuses a transaction larger than 500 KiB with TOO_BIG_TRANSACTION_ERROR", async () => {
    const tw = net.tronWeb();
    const genesis = net.devnet.genesis;
    const head = net.devnet.node.chain.head;
    const rawBytes = encodeTransactionRaw({
      ...refBlockFromBlockId(BigInt(head.number), head.id),
      expiration: BigInt(head.timestamp + 60_000),
      timestamp: BigInt(head.timestamp),
      feeLimit: 0n,
      data: new Uint8Array(501 * 1024),
      contract: {
        type: "TransferContract",
        owner: parseAddress(genesis.address),
        to: parseAddress(newTestAccount().address),
        amount: 1n,
      },
      permissionId: 0,
    });
    const sig = signTxId(txIdOf(rawBytes), hex.decode(genesis.privateKey));
    const res = await tw.trx.sendRawTransaction(transactionToJson(rawBytes, [sig]) as never);
    expect(res.code).toBe("TOO_BIG_TRANSACTION_ERROR");
  });

  it("refuses sending more TRX than the balance with CONTRACT_VALIDATE_ERROR and changes nothing", async () => {
    const poor = net.fundedAccount(5n * TRX);
    const tw = net.tronWeb(poor.privateKey);
    const res = await tw.trx.sendTransaction(newTestAccount().address, 10_000_000);
    expect(res.code).toBe("CONTRACT_VALIDATE_ERROR");
    expect(messageText(res.message)).toContain("balance is not sufficient");
    net.solidify();
    expect(await balanceOf(poor.address)).toBe(5n * TRX);
  });
});
