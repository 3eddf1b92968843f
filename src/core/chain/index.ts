import type { TronWeb } from "tronweb";
import { parseAddress, toBase58 } from "../../shared/address.js";
import type { Logger } from "../../shared/log.js";
import {
  estimateUsdtTransfer,
  readAccountExists,
  readBalances,
  readChainParameters,
  readUsdtAllowance,
  readUsdtBalance,
} from "./accounts.js";
import { readBlock, readHead, readSolidified } from "./blocks.js";
import { broadcast } from "./broadcast.js";
import { build } from "./builder.js";
import { sharedRead } from "./cache.js";
import { NodeClient, type NodeObserver } from "./node-client.js";
import { planStake, planTransfer } from "./plans.js";
import { readAvailableUnfreezeCount, readDelegations, readStakingState } from "./staking.js";
import { readBlockTransfers } from "./transfers.js";
import { readTransactionInfo, readTransactionSeen } from "./txinfo.js";
import type { Chain } from "./types.js";

export type * from "./types.js";

/** What the adapter needs. */
export interface ChainDeps {
  nodeUrls: string[];
  /** The USDT contract, base58check or 41-hex. */
  usdtContract: string;
  log: Logger;
  /** Per node call, default 5 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** ms since the epoch; default Date.now. */
  clock?: () => number;
  /** Told about every node call and breaker change (metrics). */
  observer?: NodeObserver;
  /**
   * Builds reuse the head block read within this long as their reference block (ms); default 0,
   * a head read per build. TaPoS accepts any of the last 65,536 blocks, and an older reference
   * only makes the expiration (reference time + lifetime) earlier.
   */
  referenceBlockMaxAgeMs?: number;
}

/** The TRON node adapter over one or more java-tron HTTP nodes (tried in order). */
export function createChain(deps: ChainDeps): Chain {
  const client = new NodeClient({
    urls: deps.nodeUrls,
    timeoutMs: deps.timeoutMs ?? 5_000,
    log: deps.log.child({ component: "chain" }),
    fetch: deps.fetch ?? globalThis.fetch,
    observer: deps.observer,
  });
  const usdt = parseAddress(deps.usdtContract, "usdtContract");
  const reads = { client, usdt };
  // One tronweb per node, used only to build: with a block header given it calls no node
  // and holds no key (signing is the signer's job). It is a large module, so it is loaded on
  // the first build, not when core starts.
  const tronWebs = new Map<string, TronWeb>();
  const tronWeb = async () => {
    const { TronWeb } = await import("tronweb");
    const url = client.status().nodeUrl;
    let tw = tronWebs.get(url);
    if (!tw) {
      tw = new TronWeb({ fullHost: url });
      tronWebs.set(url, tw);
    }
    return tw;
  };
  const clock = deps.clock ?? Date.now;
  let lastTimestamp = 0;
  // Two identical transfers built in the same millisecond on the same reference block would
  // share a txID, so one would be a "duplicate" of the other: timestamps never repeat here.
  const nextTimestamp = () => {
    lastTimestamp = Math.max(clock(), lastTimestamp + 1);
    return lastTimestamp;
  };
  const head = () => readHead(client);
  const referenceBlock = sharedRead(head, deps.referenceBlockMaxAgeMs ?? 0);
  const builder = { tronWeb, head: () => referenceBlock(undefined), nextTimestamp };
  return {
    usdtContract: toBase58(usdt),
    head,
    solidified: () => readSolidified(client),
    block: (which) => readBlock(client, which),
    buildTransfer: async (req) => build(builder, planTransfer(req, usdt)),
    buildStake: async (req) => build(builder, planStake(req)),
    broadcast: (rawData, signature) => broadcast(client, rawData, signature),
    transactionInfo: (txId, from) => readTransactionInfo(client, txId, from),
    transactionSeen: (txId) => readTransactionSeen(client, txId),
    balances: (address) => readBalances(reads, address),
    usdtBalance: (address) => readUsdtBalance(reads, address),
    recipientHoldsUsdt: async (address) => (await readUsdtBalance(reads, address)) > 0n,
    accountExists: (address) => readAccountExists(reads, address),
    estimateUsdtTransfer: (from, to, amount) => estimateUsdtTransfer(reads, from, to, amount),
    chainParameters: () => readChainParameters(client),
    usdtAllowance: (owner, spender) => readUsdtAllowance(reads, owner, spender),
    stakingState: (address) => readStakingState(client, address),
    delegations: (address) => readDelegations(client, address),
    availableUnfreezeCount: (address) => readAvailableUnfreezeCount(client, address),
    blockTransfers: (number) => readBlockTransfers(client, usdt, number),
    status: () => client.status(),
    anyNodeAvailable: () => client.anyNodeAvailable(),
    onAvailabilityChange: (listener) => client.onAvailabilityChange(listener),
  };
}
