import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { NetworkService } from "../../gen/tronpay/v1/network_pb.js";
import { AppError } from "../../shared/errors.js";
import { formatAmount } from "../../shared/money.js";
import type { BlockHeader, BlockSelector, Chain, ChainParameters, TxInfo } from "../chain/index.js";

/** What the NetworkService handlers need. */
export interface NetworkHandlerDeps {
  chain: Chain;
  /** Network name from configuration ("mainnet", "nile", "devnet"); empty if unset. */
  network?: string;
  /** ms since the epoch; default Date.now. */
  clock?: () => number;
}

const MAX_INT64 = 2n ** 63n - 1n;

const invalid = (field: string, message: string) =>
  new AppError("request.invalid", message, { metadata: { field } });

/** NetworkService: thin conversions around the chain adapter. */
export function createNetworkHandlers(
  deps: NetworkHandlerDeps,
): ServiceImpl<typeof NetworkService> {
  const { chain } = deps;
  const clock = deps.clock ?? Date.now;
  return {
    async getStatus() {
      const base = {
        network: deps.network ?? "",
        usdtContract: chain.usdtContract,
        checkedAt: timestampFromMs(clock()),
      };
      let figures: Awaited<ReturnType<typeof readFigures>>;
      try {
        figures = await readFigures(chain);
      } catch (err) {
        // A status call answers that the node is down rather than failing itself.
        if (!(err instanceof AppError && err.reason.startsWith("node."))) throw err;
        return { ...base, nodeUrl: chain.status().nodeUrl, nodeReachable: false };
      }
      const { head, solid, params } = figures;
      const node = chain.status();
      return {
        ...base,
        nodeUrl: node.nodeUrl,
        nodeReachable: node.reachable,
        headBlockNumber: head.number,
        headBlockId: head.id,
        headBlockTime: timestampFromMs(head.timestamp),
        solidifiedBlockNumber: solid.number,
        parameters: parametersToProto(params),
      };
    },
    async getBlock(req) {
      const which = parseBlockSelector(req.block);
      const [block, solid] = await Promise.all([chain.block(which), chain.solidified()]);
      if (!block) {
        throw new AppError("request.not_found", "no such block", { metadata: { field: "block" } });
      }
      return { block: blockToProto(block, which === "solidified" || block.number <= solid.number) };
    },
    async getTransaction(req) {
      if (!/^[0-9a-fA-F]{64}$/.test(req.txId)) {
        throw invalid("tx_id", "tx_id must be 64 hex characters");
      }
      const txId = req.txId.toLowerCase();
      const [info, solid] = await Promise.all([
        chain.transactionInfo(txId, "head"),
        chain.solidified(),
      ]);
      if (info) return { transaction: txInfoToProto(info, info.blockNumber <= solid.number) };
      if (!(await chain.transactionSeen(txId))) {
        throw new AppError("request.not_found", "no such transaction", {
          metadata: { field: "tx_id" },
        });
      }
      return { transaction: { txId } };
    },
  };
}

async function readFigures(chain: Chain) {
  const [head, solid, params] = await Promise.all([
    chain.head(),
    chain.solidified(),
    chain.chainParameters(),
  ]);
  return { head, solid, params };
}

/** "latest", "solidified" or a decimal block number; throws request.invalid (field block). */
export function parseBlockSelector(text: string): BlockSelector {
  if (text === "latest" || text === "solidified") return text;
  if (/^(0|[1-9][0-9]{0,18})$/.test(text) && BigInt(text) <= MAX_INT64) return BigInt(text);
  throw invalid("block", 'block must be a decimal block number, "latest" or "solidified"');
}

function blockToProto(b: BlockHeader, solidified: boolean) {
  return {
    number: b.number,
    id: b.id,
    parentId: b.parentId,
    time: timestampFromMs(b.timestamp),
    transactionCount: b.transactionCount,
    witnessAddress: b.witness,
    solidified,
  };
}

function parametersToProto(p: ChainParameters) {
  return {
    energyFeeSun: p.energyFeeSun,
    bandwidthFeeSun: p.bandwidthFeeSun,
    memoFeeSun: p.memoFeeSun,
    accountActivationFeeSun: p.accountActivationFeeSun,
    createAccountBandwidthFeeSun: p.createAccountBandwidthFeeSun,
    maxFeeLimitSun: p.maxFeeLimitSun,
    unfreezeDelayDays: p.unfreezeDelayDays,
  };
}

function txInfoToProto(info: TxInfo, solidified: boolean) {
  return {
    txId: info.txId,
    blockNumber: info.blockNumber,
    solidified,
    result: info.result,
    cost: {
      bandwidthUsed: info.netUsed,
      energyUsed: info.energyUsed,
      trxBurned: formatAmount(info.feeSun),
    },
  };
}
