import { TronWeb } from "tronweb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../src/core/chain/builder.js";
import { checkBuilt, type ExpectedTx } from "../../src/core/chain/check.js";
import type { Chain } from "../../src/core/chain/index.js";
import { planTransfer } from "../../src/core/chain/plans.js";
import { parseAddress } from "../../src/shared/address.js";
import { AppError } from "../../src/shared/errors.js";
import { refBlockFromBlockId } from "../../src/tron/block.js";
import { decodeTransactionRaw } from "../../src/tron/transaction.js";
import { newTestAccount, startTestDevnet, type TestNet, TRX } from "../devnet/helpers.js";
import { chainOn, closedPortUrl, signAsGenesis } from "./chain-helpers.js";

let net: TestNet;

beforeAll(async () => {
  net = await startTestDevnet();
  net.devnet.admin.mine(2);
});
afterEach(() => {
  net.devnet.admin.setFaults({ errorRate: 0, dropRate: 0, timeoutRate: 0, latencyMs: 0 });
});
afterAll(async () => {
  await net?.stop();
});

async function thrown(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected an AppError");
}

/** A signed 1-sun transfer from genesis to a fresh account, built while the node is healthy. */
async function signedTransfer(chain: Chain) {
  const built = await chain.buildTransfer({
    kind: "TRX_TRANSFER",
    owner: net.devnet.genesis.address,
    to: newTestAccount().address,
    amount: 1n * TRX,
    lifetimeMs: 60_000,
  });
  return { built, sig: signAsGenesis(net, built.txId) };
}

describe("broadcast under node faults", () => {
  it("is unknown, never rejected, when the node answers HTTP 503", async () => {
    const chain = chainOn(net, [net.devnet.url]);
    const { built, sig } = await signedTransfer(chain);
    net.devnet.admin.setFaults({ errorRate: 1 });
    const result = await chain.broadcast(built.rawData, sig);
    expect(result.outcome).toBe("unknown");
    expect(result.outcome === "unknown" && result.detail).toMatch(/503/);
    expect((await thrown(chain.head())).reason).toBe("node.unavailable");
  });

  it("is unknown when the connection drops after the node included the transaction", async () => {
    const chain = chainOn(net, [net.devnet.url]);
    const { built, sig } = await signedTransfer(chain);
    net.devnet.admin.setFaults({ timeoutRate: 1 });
    expect((await chain.broadcast(built.rawData, sig)).outcome).toBe("unknown");
    net.devnet.admin.setFaults({ timeoutRate: 0 });
    net.solidify();
    expect((await chain.transactionInfo(built.txId, "solidified"))?.result).toBe("SUCCESS");
  });

  it("is accepted for a broadcast the node then drops, which is never seen on chain", async () => {
    const chain = chainOn(net, [net.devnet.url]);
    const { built, sig } = await signedTransfer(chain);
    net.devnet.admin.setFaults({ dropRate: 1 });
    expect(await chain.broadcast(built.rawData, sig)).toEqual({ outcome: "accepted" });
    net.solidify();
    expect(await chain.transactionSeen(built.txId)).toBe(false);
    expect(await chain.transactionInfo(built.txId, "head")).toBeUndefined();
  });

  it("is unknown when the node is slower than the timeout, and reads fail with node.unavailable", async () => {
    const chain = chainOn(net, [net.devnet.url], 100);
    const { built, sig } = await signedTransfer(chain);
    net.devnet.admin.setFaults({ latencyMs: 400 });
    const result = await chain.broadcast(built.rawData, sig);
    expect(result.outcome === "unknown" && result.detail).toMatch(/timed out/);
    expect((await thrown(chain.head())).reason).toBe("node.unavailable");
    expect(chain.status().reachable).toBe(false);
  });
});

describe("several node URLs", () => {
  it("reads from the second URL when nothing listens on the first", async () => {
    const chain = chainOn(net, [await closedPortUrl(), net.devnet.url]);
    const head = await chain.head();
    expect(head.id).toBe(net.devnet.node.chain.head.id);
    expect(chain.status()).toEqual({ nodeUrl: net.devnet.url, reachable: true });
  });

  it("reads from the second URL when the first answers HTTP 503", async () => {
    const sick = await startTestDevnet();
    try {
      sick.devnet.admin.setFaults({ errorRate: 1 });
      const chain = chainOn(net, [sick.devnet.url, net.devnet.url]);
      expect((await chain.solidified()).id).toBe(
        net.devnet.node.chain.block(net.devnet.node.chain.solidHeight)?.id,
      );
      expect(chain.status().nodeUrl).toBe(net.devnet.url);
    } finally {
      await sick.stop();
    }
  });

  it("throws node.unavailable and reports unreachable when no URL answers", async () => {
    const chain = chainOn(net, [await closedPortUrl()]);
    const err = await thrown(chain.head());
    expect(err.reason).toBe("node.unavailable");
    expect(err.message).not.toMatch(/127\.0\.0\.1/);
    expect(chain.status().reachable).toBe(false);
  });

  it("never shows credentials of a node URL", async () => {
    const url = new URL(net.devnet.url);
    url.username = "user";
    url.password = "secret";
    url.search = "?apikey=secret";
    const chain = chainOn(net, [url.toString()]);
    await chain.head();
    expect(chain.status().nodeUrl).toBe(net.devnet.url);
  });
});

describe("the builder's own check", () => {
  async function realBuild() {
    const chain = chainOn(net, [net.devnet.url]);
    const to = newTestAccount().address;
    const built = await chain.buildTransfer({
      kind: "TRX_TRANSFER",
      owner: net.devnet.genesis.address,
      to,
      amount: 7n,
      lifetimeMs: 60_000,
    });
    const raw = decodeTransactionRaw(built.rawData);
    const want: ExpectedTx = {
      contract: raw.contract,
      feeLimit: 0n,
      expiration: BigInt(built.expiration),
      timestamp: raw.timestamp,
      ref: refBlockFromBlockId(built.refBlock.number, built.refBlock.id),
      data: new Uint8Array(0),
    };
    return { raw, want, to };
  }

  it("accepts a transaction equal to the request and names the first field that differs", async () => {
    const { raw, want } = await realBuild();
    expect(() => checkBuilt(raw, want)).not.toThrow();
    const cases: [Partial<ExpectedTx>, string][] = [
      [
        { contract: { ...(raw.contract as object), amount: 8n } as ExpectedTx["contract"] },
        "contract.amount",
      ],
      [
        {
          contract: {
            ...(raw.contract as object),
            to: parseAddress(newTestAccount().address),
          } as ExpectedTx["contract"],
        },
        "contract.to",
      ],
      [{ feeLimit: 1n }, "fee_limit"],
      [{ expiration: want.expiration + 1n }, "expiration"],
      [{ data: new Uint8Array([1]) }, "data"],
    ];
    for (const [patch, field] of cases) {
      const err = (() => {
        try {
          checkBuilt(raw, { ...want, ...patch });
        } catch (e) {
          return e as AppError;
        }
        return undefined;
      })();
      expect(err?.reason).toBe("chain.build_failed");
      expect(err?.metadata.field).toBe(field);
    }
  });

  it("refuses what tronweb built when it is not what was asked", async () => {
    const chain = chainOn(net, [net.devnet.url]);
    const usdt = parseAddress(net.devnet.usdtAddress);
    const req = {
      kind: "TRX_TRANSFER" as const,
      owner: net.devnet.genesis.address,
      to: newTestAccount().address,
      amount: 5n,
      lifetimeMs: 60_000,
    };
    const honest = planTransfer(req, usdt);
    // A builder that sends one sun more than the plan says, as a tampered tronweb might.
    const lying = planTransfer({ ...req, amount: 6n }, usdt);
    const deps = {
      tronWeb: () => new TronWeb({ fullHost: net.devnet.url }),
      head: () => chain.head(),
      nextTimestamp: () => Date.now(),
    };
    const err = await thrown(build(deps, { ...honest, build: lying.build }));
    expect(err.reason).toBe("chain.build_failed");
    expect(err.metadata.field).toBe("contract.amount");
    await expect(build(deps, honest)).resolves.toMatchObject({ feeLimit: 0n });
  });
});
