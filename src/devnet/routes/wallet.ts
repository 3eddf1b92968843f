import { TronDecodeError } from "../../tron/decode-error.js";
import { rawDataFromJson, transactionFromJson, transactionToJson } from "../../tron/json.js";
import { decodeTransaction, type TxRaw, txIdOf } from "../../tron/transaction.js";
import { BroadcastError } from "../broadcast.js";
import { HANG_UP, type Handler } from "../http.js";
import type { DevnetNode } from "../node.js";
import { builderHandlers } from "./builders.js";
import { contractHandlers } from "./contract.js";
import { hexParam, hexText } from "./params.js";
import { readHandlers } from "./reads.js";

/** All `/wallet/*` handlers, keyed by lower-case path. */
export function walletRoutes(node: DevnetNode): Map<string, Handler> {
  const handlers: Record<string, Handler> = {
    ...readHandlers(node, false),
    ...contractHandlers(node),
    ...builderHandlers(node),
    broadcasttransaction: ({ params }) => broadcastJson(node, params),
    broadcasthex: ({ params }) => broadcastHex(node, params),
    getchainparameters: () => ({ chainParameter: chainParameters(node) }),
    getnodeinfo: () => nodeInfo(node),
    getenergyprices: () => ({ prices: `0:${node.params.energyPriceSun}` }),
    getbandwidthprices: () => ({ prices: `0:${node.params.bandwidthPriceSun}` }),
    getmemofee: () => ({ prices: `0:${node.params.memoFeeSun}` }),
  };
  return new Map(Object.entries(handlers).map(([k, h]) => [`/wallet/${k.toLowerCase()}`, h]));
}

function broadcastJson(node: DevnetNode, params: Readonly<Record<string, unknown>>): unknown {
  let tx: { rawBytes: Uint8Array; signatures: Uint8Array[]; decoded?: TxRaw };
  try {
    tx = transactionFromJson(params);
    // transactionFromJson proved raw_data encodes to exactly raw_data_hex, so reading it
    // again is the decoded raw without a second strict decode.
    if (params.raw_data !== undefined) tx.decoded = rawDataFromJson(params.raw_data);
  } catch (err) {
    const txid = typeof params.txID === "string" ? params.txID : "";
    return refusal(decodeRefusal(err), txid);
  }
  return answer(node, tx);
}

function broadcastHex(node: DevnetNode, params: Readonly<Record<string, unknown>>): unknown {
  let decoded: { rawBytes: Uint8Array; signatures: Uint8Array[] };
  try {
    decoded = decodeTransaction(hexParam(params, "transaction"));
  } catch (err) {
    return refusal(decodeRefusal(err), "");
  }
  const out = answer(node, decoded);
  if (out === HANG_UP || !(out as { result?: boolean }).result) return out;
  const json = transactionToJson(decoded.rawBytes, decoded.signatures);
  return { ...(out as object), transaction: JSON.stringify(json) };
}

function answer(
  node: DevnetNode,
  tx: { rawBytes: Uint8Array; signatures: Uint8Array[]; decoded?: TxRaw },
): unknown {
  try {
    const { txid, hangUp } = node.broadcast(tx);
    return hangUp ? HANG_UP : { result: true, txid };
  } catch (err) {
    if (!(err instanceof BroadcastError)) throw err;
    return refusal(err, txIdOf(tx.rawBytes));
  }
}

function decodeRefusal(err: unknown): BroadcastError {
  if (err instanceof TronDecodeError) {
    const code = err.code === "bad_signature" ? "SIGERROR" : "OTHER_ERROR";
    return new BroadcastError(code, err.message);
  }
  if (err instanceof BroadcastError) return err;
  throw err;
}

function refusal(err: BroadcastError, txid: string): unknown {
  return { code: err.code, txid, message: hexText(err.message) };
}

function chainParameters(node: DevnetNode): { key: string; value?: number | bigint }[] {
  const p = node.params;
  const list: [string, number | bigint][] = [
    ["getMaintenanceTimeInterval", 21_600_000],
    ["getAccountUpgradeCost", 9_999_000_000],
    ["getCreateAccountFee", p.createAccountBandwidthFeeSun],
    ["getTransactionFee", p.bandwidthPriceSun],
    ["getAssetIssueFee", 1_024_000_000],
    ["getWitnessPayPerBlock", 16_000_000],
    ["getWitnessStandbyAllowance", 115_200_000_000],
    ["getCreateNewAccountFeeInSystemContract", p.createAccountFeeSun],
    ["getCreateNewAccountBandwidthRate", 1],
    ["getAllowCreationOfContracts", 1],
    ["getEnergyFee", p.energyPriceSun],
    ["getFreeNetLimit", p.freeNetLimit],
    ["getTotalEnergyCurrentLimit", 180_000_000_000],
    ["getAllowTvmFreeze", 1],
    ["getAllowNewResourceModel", 1],
    ["getAllowDelegateResource", 1],
    ["getUnfreezeDelayDays", Math.max(1, Math.round(p.unstakeWaitMs / 86_400_000))],
    ["getAllowCancelAllUnfreezeV2", 1],
    ["getMaxDelegateLockPeriod", 864_000],
    ["getMemoFee", p.memoFeeSun],
    ["getMaxFeeLimit", p.maxFeeLimitSun],
    ["getAllowDynamicEnergy", 1],
  ];
  return list.map(([key, value]) => (value === 0 || value === 0n ? { key } : { key, value }));
}

function nodeInfo(node: DevnetNode): unknown {
  const head = node.chain.head;
  const solid = node.chain.block(node.chain.solidHeight);
  return {
    beginSyncNum: 0,
    block: `Num:${head.number},ID:${head.id}`,
    solidityBlock: `Num:${solid?.number ?? 0},ID:${solid?.id ?? ""}`,
    currentConnectCount: 0,
    activeConnectCount: 0,
    passiveConnectCount: 0,
    totalFlow: 0,
    peerInfoList: [],
    configNodeInfo: { codeVersion: "devnet", versionNum: "0", p2pVersion: "devnet" },
    machineInfo: { threadCount: 1, cpuCount: 1 },
    cheatWitnessInfoMap: {},
  };
}
