import { createServer } from "node:net";
import { hex } from "@scure/base";
import { type Chain, createChain } from "../../src/core/chain/index.js";
import { createLogger } from "../../src/shared/log.js";
import { signTxId } from "../../src/tron/signature.js";
import type { TestNet } from "../devnet/helpers.js";

/** A silent logger for adapter tests. */
export const silentLog = createLogger({ name: "test", level: "silent" });

/** The adapter on the given loopback node URLs. */
export function chainOn(net: TestNet, urls: string[], timeoutMs = 2_000): Chain {
  return createChain({
    nodeUrls: urls,
    usdtContract: net.devnet.usdtAddress,
    log: silentLog,
    timeoutMs,
  });
}

/** A loopback URL where nothing listens (a port that was just bound and released). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

/** Signs a txID with the devnet's genesis key (generated for this run). */
export function signAsGenesis(net: TestNet, txId: string): Uint8Array {
  return signTxId(txId, hex.decode(net.devnet.genesis.privateKey));
}
