import { hex } from "@scure/base";
import { toBase58 } from "../shared/address.js";
import { transactionToJson } from "../tron/json.js";
import type { BlockRecord } from "./chain.js";
import { type FeeParams, stakedLimit, usageAt } from "./fees.js";
import type { Account, StakeTotals } from "./state.js";
import type { TxRecord } from "./tx-record.js";

/**
 * java-tron's JSON shapes. Values stay bigint here; the HTTP layer writes them as JSON
 * numbers (or strings for `int64_as_string`). Default values are omitted, as java-tron does.
 */

type Json = Record<string, unknown>;

/** java-tron's resource window in 3 s slots, shown as *_window_size. */
const WINDOW_SLOTS = 28_800n;
const SUN_PER_TRX = 1_000_000n;

/** Drops keys whose value is a default (0, 0n, "", false, undefined, empty array/object). */
export function omitDefaults(obj: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === 0 || v === 0n || v === "" || v === false) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}

/** `getaccount`: `{}` for an unknown account. */
export function accountJson(address: string, a: Account | undefined): Json {
  if (!a) return {};
  return omitDefaults({
    address,
    balance: a.balance,
    create_time: a.createTime,
    latest_opration_time: a.latestOperationTime,
    free_net_usage: a.freeNet.used,
    latest_consume_free_time: a.freeNet.time,
    net_usage: a.net.used,
    latest_consume_time: a.net.time,
    net_window_size: WINDOW_SLOTS,
    delegated_frozenV2_balance_for_bandwidth: a.delegatedOut.BANDWIDTH,
    acquired_delegated_frozenV2_balance_for_bandwidth: a.acquired.BANDWIDTH,
    account_resource: omitDefaults({
      energy_usage: a.energy.used,
      latest_consume_time_for_energy: a.energy.time,
      energy_window_size: WINDOW_SLOTS,
      delegated_frozenV2_balance_for_energy: a.delegatedOut.ENERGY,
      acquired_delegated_frozenV2_balance_for_energy: a.acquired.ENERGY,
    }),
    frozenV2: [
      omitDefaults({ amount: a.frozen.BANDWIDTH }),
      omitDefaults({ type: "ENERGY", amount: a.frozen.ENERGY }),
      { type: "TRON_POWER" },
    ],
    unfrozenV2: a.unfrozen.map((u) =>
      omitDefaults({
        type: u.resource === "ENERGY" ? "ENERGY" : undefined,
        unfreeze_amount: u.amount,
        unfreeze_expire_time: u.expireTime,
      }),
    ),
  });
}

/**
 * `getaccountresource`. Total weights and limits are reported so that java-tron's formula
 * (staked / TotalWeight × TotalLimit) gives the devnet's fixed per-TRX rate.
 */
export function accountResourceJson(
  a: Account | undefined,
  totals: StakeTotals,
  now: number,
  p: FeeParams,
): Json {
  const netWeight = maxBig(totals.BANDWIDTH / SUN_PER_TRX, 1n);
  const energyWeight = maxBig(totals.ENERGY / SUN_PER_TRX, 1n);
  const totalsJson = {
    TotalNetLimit: netWeight * p.netPerTrx,
    TotalNetWeight: netWeight,
    TotalEnergyLimit: energyWeight * p.energyPerTrx,
    TotalEnergyWeight: energyWeight,
  };
  if (!a) return omitDefaults({ freeNetLimit: p.freeNetLimit, ...totalsJson });
  const power =
    (a.frozen.BANDWIDTH + a.frozen.ENERGY + a.delegatedOut.BANDWIDTH + a.delegatedOut.ENERGY) /
    SUN_PER_TRX;
  return omitDefaults({
    freeNetUsed: usageAt(a.freeNet, now),
    freeNetLimit: p.freeNetLimit,
    NetUsed: usageAt(a.net, now),
    NetLimit: stakedLimit(a, "BANDWIDTH", p),
    ...totalsJson,
    tronPowerLimit: power,
    EnergyUsed: usageAt(a.energy, now),
    EnergyLimit: stakedLimit(a, "ENERGY", p),
  });
}

/** A block: header always, transactions when `detail` and there are any. */
export function blockJson(
  b: BlockRecord,
  txs: (id: string) => TxRecord | undefined,
  detail: boolean,
): Json {
  const out: Json = {
    blockID: b.id,
    block_header: {
      // number is kept even at 0: tronweb reads it unguarded to build TaPoS references.
      raw_data: {
        number: b.number,
        ...omitDefaults({
          txTrieRoot: b.txTrieRoot,
          witness_address: b.witness,
          parentHash: b.parentHash,
          version: 30,
          timestamp: b.timestamp,
        }),
      },
    },
  };
  if (detail && b.txIds.length > 0) {
    out.transactions = b.txIds.flatMap((id) => {
      const t = txs(id);
      return t ? [transactionWithRet(t)] : [];
    });
  }
  return out;
}

/** `gettransactionbyid`: the signed transaction with `ret`. */
export function transactionWithRet(t: TxRecord): Json {
  const json = transactionToJson(
    hex.decode(t.rawHex),
    t.signatures.map((s) => hex.decode(s)),
  ) as unknown as Json;
  return { ret: [{ contractRet: t.contractRet }], ...json };
}

/** `gettransactioninfobyid` in java-tron's shape. */
export function transactionInfoJson(t: TxRecord): Json {
  const failed = t.contractRet !== "SUCCESS";
  return omitDefaults({
    id: t.txId,
    fee: t.fee,
    blockNumber: t.blockNumber,
    blockTimeStamp: t.blockTimestamp,
    contractResult: [t.contractResult ?? ""],
    contract_address: t.contractAddress,
    receipt: omitDefaults({
      energy_usage: t.receipt.energyUsage,
      energy_fee: t.receipt.energyFee,
      energy_usage_total: t.receipt.energyUsageTotal,
      net_usage: t.receipt.netUsage,
      net_fee: t.receipt.netFee,
      result: t.receipt.result,
    }),
    log: t.logs.map((l) => ({ address: l.address, topics: [...l.topics], data: l.data })),
    result: failed ? "FAILED" : undefined,
    resMessage: t.resMessage ? hex.encode(new TextEncoder().encode(t.resMessage)) : undefined,
    withdraw_expire_amount: t.withdrawExpireAmount,
  });
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

const ADDRESS_KEYS = new Set([
  "address",
  "owner_address",
  "to_address",
  "contract_address",
  "receiver_address",
  "origin_address",
  "witness_address",
  "from",
  "to",
  "account",
  "fromAccounts",
  "toAccounts",
]);
const HEX41 = /^41[0-9a-f]{40}$/;

/**
 * java-tron's `visible: true`: addresses in the answer as base58 (T…). Applied to the keys
 * java-tron writes addresses under; transaction info log addresses (20 bytes) stay hex.
 */
export function toVisible(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    return ADDRESS_KEYS.has(key) && HEX41.test(value) ? toBase58(hex.decode(value)) : value;
  }
  if (Array.isArray(value)) return value.map((v) => toVisible(v, key));
  if (value && typeof value === "object") {
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === "visible" ? true : toVisible(v, k);
    return out;
  }
  return value;
}
