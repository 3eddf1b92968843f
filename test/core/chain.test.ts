import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Chain, createChain } from "../../src/core/chain/index.js";
import { AppError } from "../../src/shared/errors.js";
import { decodeTransactionRaw, txIdOf } from "../../src/tron/transaction.js";
import { decodeCall } from "../../src/tron/trc20.js";
import { newTestAccount, startTestDevnet, type TestNet, TRX } from "../devnet/helpers.js";
import { chainOn, signAsGenesis, silentLog } from "./chain-helpers.js";

let net: TestNet;
let chain: Chain;

beforeAll(async () => {
  net = await startTestDevnet();
  net.devnet.admin.mine(5);
  chain = chainOn(net, [net.devnet.url]);
});
afterEach(() => {
  net.devnet.admin.setFaults({ errorRate: 0, dropRate: 0, timeoutRate: 0, latencyMs: 0 });
});
afterAll(async () => {
  await net?.stop();
});

const genesis = () => net.devnet.genesis.address;

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err.reason;
    throw err;
  }
  throw new Error("expected an AppError");
}

describe("chain adapter reads", () => {
  it("reports the devnet's head and solidified blocks", async () => {
    const head = await chain.head();
    const solid = await chain.solidified();
    const devHead = net.devnet.node.chain.head;
    expect(head).toEqual({
      number: BigInt(devHead.number),
      id: devHead.id,
      timestamp: devHead.timestamp,
    });
    expect(solid.number).toBe(BigInt(net.devnet.node.chain.solidHeight));
    const byNumber = await chain.block(solid.number);
    expect(byNumber?.id).toBe(solid.id);
    expect(await chain.block(10_000_000n)).toBeUndefined();
  });

  it("reads a TRX balance above 2^53 sun exactly (java-tron writes it as a bare JSON number)", async () => {
    // The devnet rounds such numbers when it writes JSON, so this node answer is canned.
    const rich = newTestAccount();
    const answers: Record<string, string> = {
      "/wallet/getaccount": '{"address":"41aa","balance":1152921504606847099}',
      "/wallet/getaccountresource": '{"freeNetLimit":600,"EnergyLimit":9007199254740993}',
      "/wallet/triggerconstantcontract": `{"result":{"result":true},"constant_result":["${"0".repeat(63)}7"]}`,
    };
    const fetchStub = (async (url: URL) =>
      new Response(answers[url.pathname] ?? "{}", { status: 200 })) as unknown as typeof fetch;
    const canned = createChain({
      nodeUrls: ["http://127.0.0.1:9"],
      usdtContract: net.devnet.usdtAddress,
      log: silentLog,
      fetch: fetchStub,
    });
    const b = await canned.balances(rich.address);
    expect(b.trx).toBe(1152921504606847099n);
    expect(b.energy.limit).toBe(9007199254740993n);
    expect(b.usdt).toBe(7n);
    expect(b.bandwidth).toEqual({ freeLimit: 600n, freeUsed: 0n, stakedLimit: 0n, stakedUsed: 0n });
  });

  it("reads the fee parameters the devnet is configured with", async () => {
    expect(await chain.chainParameters()).toEqual({
      energyFeeSun: 100n,
      bandwidthFeeSun: 1000n,
      memoFeeSun: 1_000_000n,
      accountActivationFeeSun: 1_000_000n,
      createAccountBandwidthFeeSun: 100_000n,
      maxFeeLimitSun: 15_000_000_000n,
      unfreezeDelayDays: 14n,
      freeNetLimit: 600n,
    });
  });

  it("tells an unknown account and a USDT-less account apart from funded ones", async () => {
    const nobody = newTestAccount().address;
    expect(await chain.accountExists(nobody)).toBe(false);
    expect(await chain.accountExists(genesis())).toBe(true);
    expect(await chain.recipientHoldsUsdt(nobody)).toBe(false);
    const holder = net.fundedAccount(1n * TRX, 7n);
    expect(await chain.usdtBalance(holder.address)).toBe(7n);
    expect(await chain.recipientHoldsUsdt(holder.address)).toBe(true);
  });

  it("refuses an invalid address with address.invalid before calling the node", async () => {
    expect(await reason(chain.balances("Tnot-an-address"))).toBe("address.invalid");
  });
});

describe("building, broadcasting and following a TRX transfer", () => {
  it("builds exactly what was asked, is accepted once, then is a duplicate, then succeeds", async () => {
    const to = newTestAccount().address;
    const head = await chain.head();
    const built = await chain.buildTransfer({
      kind: "TRX_TRANSFER",
      owner: genesis(),
      to,
      amount: 5n * TRX,
      lifetimeMs: 60_000,
    });
    const raw = decodeTransactionRaw(built.rawData);
    expect(built.txId).toBe(txIdOf(built.rawData));
    expect(raw.contract.type).toBe("TransferContract");
    expect(raw.contract.type === "TransferContract" && raw.contract.amount).toBe(5n * TRX);
    expect(built.expiration).toBe(head.timestamp + 60_000);
    expect(raw.expiration).toBe(BigInt(built.expiration));
    expect(built.feeLimit).toBe(0n);

    const sig = signAsGenesis(net, built.txId);
    expect(await chain.broadcast(built.rawData, sig)).toEqual({ outcome: "accepted" });
    expect(await chain.broadcast(built.rawData, sig)).toEqual({ outcome: "duplicate" });
    expect(await chain.transactionInfo(built.txId, "solidified")).toBeUndefined();

    net.solidify();
    const info = await chain.transactionInfo(built.txId, "solidified");
    expect(info?.result).toBe("SUCCESS");
    // TRON.md: activating a new account burns 1 TRX plus 0.1 TRX for its bandwidth.
    expect(info?.feeSun).toBe(1_100_000n);
    expect(info?.netFeeSun).toBe(100_000n);
    expect(info?.blockNumber).toBeGreaterThan(head.number);
    expect(await chain.transactionSeen(built.txId)).toBe(true);
    expect((await chain.balances(to)).trx).toBe(5n * TRX);
  });

  it("carries a memo in raw.data and pays the memo fee", async () => {
    const to = net.fundedAccount(1n * TRX).address;
    const built = await chain.buildTransfer({
      kind: "TRX_TRANSFER",
      owner: genesis(),
      to,
      amount: 1n,
      memo: "payout 42 ✓",
      lifetimeMs: 60_000,
    });
    expect(new TextDecoder().decode(decodeTransactionRaw(built.rawData).data)).toBe("payout 42 ✓");
    expect(await chain.broadcast(built.rawData, signAsGenesis(net, built.txId))).toEqual({
      outcome: "accepted",
    });
    net.solidify();
    const info = await chain.transactionInfo(built.txId, "solidified");
    expect(info?.feeSun).toBe(1_000_000n + (info?.netFeeSun ?? 0n));
  });

  it("gives two identical transfers built back to back different txIDs", async () => {
    const req = {
      kind: "TRX_TRANSFER" as const,
      owner: genesis(),
      to: newTestAccount().address,
      amount: 3n,
      lifetimeMs: 60_000,
    };
    const [a, b] = await Promise.all([chain.buildTransfer(req), chain.buildTransfer(req)]);
    expect(a?.txId).not.toBe(b?.txId);
  });

  it("is rejected with SIGERROR when the signature is tampered with", async () => {
    const built = await chain.buildTransfer({
      kind: "TRX_TRANSFER",
      owner: genesis(),
      to: newTestAccount().address,
      amount: 1n,
      lifetimeMs: 60_000,
    });
    const sig = signAsGenesis(net, built.txId);
    sig[10] = (sig[10] as number) ^ 0xff;
    const result = await chain.broadcast(built.rawData, sig);
    expect(result.outcome).toBe("rejected");
    expect(result.outcome === "rejected" && result.code).toBe("SIGERROR");
  });

  it("is rejected as expired when the head passes its expiration before broadcast", async () => {
    const built = await chain.buildTransfer({
      kind: "TRX_TRANSFER",
      owner: genesis(),
      to: newTestAccount().address,
      amount: 1n,
      lifetimeMs: 4_000,
    });
    net.devnet.admin.advanceClock(10_000);
    const result = await chain.broadcast(built.rawData, signAsGenesis(net, built.txId));
    expect(result.outcome === "rejected" && result.code).toBe("TRANSACTION_EXPIRATION_ERROR");
    expect(result.outcome === "rejected" && result.message).toMatch(/expiration/);
  });
});

describe("building and broadcasting USDT", () => {
  it("builds transfer(to, amount) to the configured contract with the fee limit, and it succeeds", async () => {
    const to = newTestAccount().address;
    const estimate = await chain.estimateUsdtTransfer(genesis(), to, 12_500_000n);
    expect(estimate.recipientHoldsUsdt).toBe(false);
    expect(estimate.energy).toBeGreaterThan(0n);
    const built = await chain.buildTransfer({
      kind: "USDT_TRANSFER",
      owner: genesis(),
      to,
      amount: 12_500_000n,
      feeLimit: 100n * TRX,
      lifetimeMs: 60_000,
    });
    const raw = decodeTransactionRaw(built.rawData);
    expect(raw.feeLimit).toBe(100n * TRX);
    if (raw.contract.type !== "TriggerSmartContract") throw new Error("not a contract call");
    const call = decodeCall(raw.contract.data);
    expect(call.method === "transfer" && call.amount).toBe(12_500_000n);

    expect(await chain.broadcast(built.rawData, signAsGenesis(net, built.txId))).toEqual({
      outcome: "accepted",
    });
    net.solidify();
    const info = await chain.transactionInfo(built.txId, "solidified");
    const params = await chain.chainParameters();
    expect(info?.result).toBe("SUCCESS");
    expect(info?.energyUsed).toBe(estimate.energy);
    expect(info?.energyFeeSun).toBe((info?.energyUsed ?? 0n) * params.energyFeeSun);
    expect(info?.feeSun).toBe((info?.energyFeeSun ?? 0n) + (info?.netFeeSun ?? 0n));
    expect(await chain.usdtBalance(to)).toBe(12_500_000n);
    const again = await chain.estimateUsdtTransfer(genesis(), to, 1n);
    expect(again.recipientHoldsUsdt).toBe(true);
    expect(again.energy).toBeLessThan(estimate.energy);
  });

  it("refuses to estimate a transfer the sender cannot pay with chain.call_reverted", async () => {
    const poor = net.fundedAccount(10n * TRX);
    const to = newTestAccount().address;
    expect(await reason(chain.estimateUsdtTransfer(poor.address, to, 5n))).toBe(
      "chain.call_reverted",
    );
  });

  it("refuses a USDT call without a fee limit, and a TRX transfer with one", async () => {
    const base = { owner: genesis(), to: newTestAccount().address, amount: 1n, lifetimeMs: 60_000 };
    expect(await reason(chain.buildTransfer({ ...base, kind: "USDT_TRANSFER" }))).toBe(
      "request.invalid",
    );
    expect(await reason(chain.buildTransfer({ ...base, kind: "TRX_TRANSFER", feeLimit: 1n }))).toBe(
      "request.invalid",
    );
    expect(
      await reason(chain.buildTransfer({ ...base, kind: "TRX_TRANSFER", lifetimeMs: 1_000 })),
    ).toBe("request.invalid");
    const huge = BigInt(Number.MAX_SAFE_INTEGER) + 2n;
    expect(await reason(chain.buildTransfer({ ...base, kind: "TRX_TRANSFER", amount: huge }))).toBe(
      "money.out_of_range",
    );
  });
});

describe("staking", () => {
  it("builds a FreezeBalanceV2 for energy that the devnet accepts and that gives energy", async () => {
    const owner = net.fundedAccount(100n * TRX);
    const built = await chain.buildStake({
      kind: "FREEZE",
      owner: owner.address,
      amount: 50n * TRX,
      resource: "ENERGY",
      lifetimeMs: 60_000,
    });
    const raw = decodeTransactionRaw(built.rawData);
    expect(raw.contract).toMatchObject({
      type: "FreezeBalanceV2Contract",
      frozenBalance: 50n * TRX,
      resource: "ENERGY",
    });
    const { signTxId } = await import("../../src/tron/signature.js");
    const { hex } = await import("@scure/base");
    const sig = signTxId(built.txId, hex.decode(owner.privateKey));
    expect(await chain.broadcast(built.rawData, sig)).toEqual({ outcome: "accepted" });
    net.solidify();
    expect((await chain.transactionInfo(built.txId, "solidified"))?.result).toBe("SUCCESS");
    expect((await chain.balances(owner.address)).energy.limit).toBeGreaterThan(0n);
  });
});
