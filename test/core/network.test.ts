import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createHandlerContext } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Chain } from "../../src/core/chain/index.js";
import { createNetworkHandlers } from "../../src/core/network/handlers.js";
import {
  GetBlockRequestSchema,
  GetBlockResponseSchema,
  GetStatusRequestSchema,
  GetStatusResponseSchema,
  GetTransactionRequestSchema,
  GetTransactionResponseSchema,
  NetworkService,
} from "../../src/gen/tronpay/v1/network_pb.js";
import { AppError } from "../../src/shared/errors.js";
import { newTestAccount, startTestDevnet, type TestNet, TRX } from "../devnet/helpers.js";
import { chainOn, closedPortUrl, signAsGenesis } from "./chain-helpers.js";

let net: TestNet;
let chain: Chain;
const NOW = Date.UTC(2030, 0, 1);

beforeAll(async () => {
  net = await startTestDevnet();
  net.devnet.admin.mine(6);
  chain = chainOn(net, [net.devnet.url]);
});
afterAll(async () => {
  await net?.stop();
});

const ctx = (method: keyof typeof NetworkService.method) =>
  createHandlerContext({
    service: NetworkService,
    method: NetworkService.method[method],
    protocolName: "connect",
    requestMethod: "POST",
    url: "http://127.0.0.1/",
  });

const handlers = (c = chain) =>
  createNetworkHandlers({ chain: c, network: "devnet", clock: () => NOW });

async function thrown(p: unknown): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected an AppError");
}

describe("NetworkService.GetStatus", () => {
  it("reports head, solidified block, node and fee parameters", async () => {
    const res = create(
      GetStatusResponseSchema,
      await handlers().getStatus(create(GetStatusRequestSchema), ctx("getStatus")),
    );
    const dev = net.devnet.node.chain;
    expect(res.network).toBe("devnet");
    expect(res.nodeUrl).toBe(net.devnet.url);
    expect(res.nodeReachable).toBe(true);
    expect(res.headBlockNumber).toBe(BigInt(dev.head.number));
    expect(res.headBlockId).toBe(dev.head.id);
    expect(res.headBlockTime && timestampDate(res.headBlockTime).getTime()).toBe(
      dev.head.timestamp,
    );
    expect(res.solidifiedBlockNumber).toBe(BigInt(dev.solidHeight));
    expect(res.usdtContract).toBe(net.devnet.usdtAddress);
    expect(res.parameters?.energyFeeSun).toBe(100n);
    expect(res.parameters?.accountActivationFeeSun).toBe(1_000_000n);
    expect(res.checkedAt && timestampDate(res.checkedAt).getTime()).toBe(NOW);
  });

  it("answers node_reachable=false instead of failing when the node is down", async () => {
    const down = chainOn(net, [await closedPortUrl()]);
    const res = create(
      GetStatusResponseSchema,
      await handlers(down).getStatus(create(GetStatusRequestSchema), ctx("getStatus")),
    );
    expect(res.nodeReachable).toBe(false);
    expect(res.headBlockNumber).toBe(0n);
    expect(res.parameters).toBeUndefined();
  });
});

describe("NetworkService.GetBlock", () => {
  const getBlock = async (block: string) =>
    create(
      GetBlockResponseSchema,
      await handlers().getBlock(create(GetBlockRequestSchema, { block }), ctx("getBlock")),
    ).block;

  it("returns the latest, the solidified and a numbered block with their solidified flag", async () => {
    const dev = net.devnet.node.chain;
    const latest = await getBlock("latest");
    expect(latest?.id).toBe(dev.head.id);
    expect(latest?.solidified).toBe(dev.solidLag === 0);
    const solid = await getBlock("solidified");
    expect(solid?.number).toBe(BigInt(dev.solidHeight));
    expect(solid?.solidified).toBe(true);
    const two = await getBlock("2");
    expect(two?.number).toBe(2n);
    expect(two?.parentId).toBe(dev.block(1)?.id);
    expect(two?.solidified).toBe(true);
    expect(two?.witnessAddress).toMatch(/^T/);
  });

  it("counts the transactions in a block", async () => {
    const built = await chain.buildTransfer({
      kind: "TRX_TRANSFER",
      owner: net.devnet.genesis.address,
      to: newTestAccount().address,
      amount: 1n * TRX,
      lifetimeMs: 60_000,
    });
    await chain.broadcast(built.rawData, signAsGenesis(net, built.txId));
    const number = net.devnet.admin.mine(1);
    expect((await getBlock(String(number)))?.transactionCount).toBe(1);
  });

  it("refuses a malformed selector with request.invalid and a missing block with request.not_found", async () => {
    for (const bad of ["", "-1", "01", "head", "99999999999999999999"]) {
      const err = await thrown(getBlock(bad));
      expect(err.reason).toBe("request.invalid");
      expect(err.metadata.field).toBe("block");
    }
    expect((await thrown(getBlock("99999999"))).reason).toBe("request.not_found");
  });
});

describe("NetworkService.GetTransaction", () => {
  const getTx = async (txId: string) =>
    create(
      GetTransactionResponseSchema,
      await handlers().getTransaction(
        create(GetTransactionRequestSchema, { txId }),
        ctx("getTransaction"),
      ),
    ).transaction;

  it("returns an included transaction's block, result and cost, solidified once it is", async () => {
    const built = await chain.buildTransfer({
      kind: "TRX_TRANSFER",
      owner: net.devnet.genesis.address,
      to: newTestAccount().address,
      amount: 2n * TRX,
      lifetimeMs: 60_000,
    });
    await chain.broadcast(built.rawData, signAsGenesis(net, built.txId));
    const number = net.devnet.admin.mine(1);
    const fresh = await getTx(built.txId.toUpperCase());
    expect(fresh?.txId).toBe(built.txId);
    expect(fresh?.blockNumber).toBe(BigInt(number));
    expect(fresh?.solidified).toBe(false);
    expect(fresh?.result).toBe("SUCCESS");
    // Activation (1 TRX) plus the new account's bandwidth (0.1 TRX), per TRON.md.
    expect(fresh?.cost?.trxBurned).toBe("1.1");
    net.solidify();
    expect((await getTx(built.txId))?.solidified).toBe(true);
  });

  it("refuses a tx id that is not 64 hex characters with request.invalid naming tx_id", async () => {
    for (const bad of ["", "abc", "g".repeat(64), "a".repeat(65)]) {
      const err = await thrown(getTx(bad));
      expect(err.reason).toBe("request.invalid");
      expect(err.metadata.field).toBe("tx_id");
    }
  });

  it("answers request.not_found for a transaction the chain does not know", async () => {
    expect((await thrown(getTx("0".repeat(64)))).reason).toBe("request.not_found");
  });
});
