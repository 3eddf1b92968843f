import { hex } from "@scure/base";
import { type AddressBytes, parseAddress, toHex41 } from "../../shared/address.js";
import { AppError } from "../../shared/errors.js";
import {
  decodeUint256,
  encodeAllowance,
  encodeBalanceOf,
  encodeTransfer,
} from "../../tron/trc20.js";
import type { NodeClient } from "./node-client.js";
import {
  asObject,
  badResponse,
  hexMessage,
  intField,
  type NodeObject,
  objField,
  strField,
} from "./node-json.js";
import type { Balances, ChainParameters, UsdtEstimate } from "./types.js";

/** What account reads need besides the client. */
export interface AccountReads {
  client: NodeClient;
  usdt: AddressBytes;
}

/** java-tron's getaccount at the head; `{}` for an account that does not exist. */
async function account(client: NodeClient, address: AddressBytes): Promise<NodeObject> {
  return asObject(
    await client.read("/wallet/getaccount", { address: toHex41(address) }),
    "account",
  );
}

/** True when the account exists (is activated) at the head. */
export async function readAccountExists(r: AccountReads, address: string): Promise<boolean> {
  return Object.keys(await account(r.client, parseAddress(address))).length > 0;
}

/** TRX, USDT, bandwidth and energy of an account at the head. */
export async function readBalances(r: AccountReads, address: string): Promise<Balances> {
  const addr = parseAddress(address);
  const [acct, res, usdt] = await Promise.all([
    account(r.client, addr),
    r.client.read("/wallet/getaccountresource", { address: toHex41(addr) }),
    readUsdtBalance(r, address),
  ]);
  const rs = asObject(res, "account resource");
  const w = "account resource";
  return {
    trx: intField(acct, "balance", "account"),
    usdt,
    bandwidth: {
      freeLimit: intField(rs, "freeNetLimit", w),
      freeUsed: intField(rs, "freeNetUsed", w),
      stakedLimit: intField(rs, "NetLimit", w),
      stakedUsed: intField(rs, "NetUsed", w),
    },
    energy: { limit: intField(rs, "EnergyLimit", w), used: intField(rs, "EnergyUsed", w) },
  };
}

/** USDT base units held by an account (balanceOf as a constant call at the head). */
export async function readUsdtBalance(r: AccountReads, address: string): Promise<bigint> {
  const addr = parseAddress(address);
  return uintCall(r, addr, "balanceOf(address)", encodeBalanceOf(addr));
}

/** USDT base units `spender` may take from `owner` (allowance as a constant call). */
export async function readUsdtAllowance(
  r: AccountReads,
  owner: string,
  spender: string,
): Promise<bigint> {
  const o = parseAddress(owner, "owner_address");
  const s = parseAddress(spender, "spender_address");
  return uintCall(r, o, "allowance(address,address)", encodeAllowance(o, s));
}

async function uintCall(
  r: AccountReads,
  caller: AddressBytes,
  selector: string,
  data: Uint8Array,
): Promise<bigint> {
  const name = selector.slice(0, selector.indexOf("("));
  const o = await constantCall(r, "/wallet/triggerconstantcontract", caller, selector, data);
  const status = objField(o, "result", "constant call");
  if (status.result !== true) throw badResponse(`${name} did not succeed`);
  const words = o.constant_result;
  if (!Array.isArray(words) || typeof words[0] !== "string" || words[0].length !== 64) {
    throw badResponse(`${name} answered no 32-byte word`);
  }
  try {
    return decodeUint256(hex.decode(words[0].toLowerCase()));
  } catch (err) {
    throw badResponse(`${name} word is not hex`, err);
  }
}

/**
 * Energy a USDT transfer would use now: /wallet/estimateenergy, or the constant call's
 * energy_used where the node has estimateenergy switched off (java-tron's default).
 * Throws chain.call_reverted when the transfer would revert (e.g. the sender lacks USDT).
 */
export async function estimateUsdtTransfer(
  r: AccountReads,
  from: string,
  to: string,
  amount: bigint,
): Promise<UsdtEstimate> {
  const owner = parseAddress(from, "from");
  const data = encodeTransfer(parseAddress(to, "to"), amount);
  const sig = "transfer(address,uint256)";
  const [estimate, recipientUsdt] = await Promise.all([
    constantCall(r, "/wallet/estimateenergy", owner, sig, data).catch(unsupported),
    readUsdtBalance(r, to),
  ]);
  const status = objField(estimate, "result", "estimateenergy");
  let energy: bigint;
  if (status.result === true) {
    energy = intField(estimate, "energy_required", "estimateenergy");
  } else if (status.code === "CONTRACT_EXE_ERROR") {
    throw reverted(status);
  } else {
    const call = await constantCall(r, "/wallet/triggerconstantcontract", owner, sig, data);
    const callStatus = objField(call, "result", "constant call");
    if (callStatus.result !== true) throw reverted(callStatus);
    energy = intField(call, "energy_used", "constant call");
  }
  return { energy, recipientHoldsUsdt: recipientUsdt > 0n };
}

// A node without estimateenergy answers an Error object or 404; the constant call then decides.
function unsupported(err: unknown): NodeObject {
  if (err instanceof AppError && err.reason === "node.bad_response") return {};
  throw err;
}

async function constantCall(
  r: AccountReads,
  path: string,
  owner: AddressBytes,
  selector: string,
  data: Uint8Array,
): Promise<NodeObject> {
  // function_selector + parameter is what every java-tron version accepts (tronweb sends it).
  const body = {
    owner_address: toHex41(owner),
    contract_address: toHex41(r.usdt),
    function_selector: selector,
    parameter: hex.encode(data.subarray(4)),
  };
  return asObject(await r.client.read(path, body), path);
}

function reverted(status: NodeObject): AppError {
  const message = hexMessage(status.message).slice(0, 200);
  return new AppError("chain.call_reverted", "the contract call would revert", {
    metadata: { code: strField(status, "code", "result"), message },
  });
}

const PARAMETER_KEYS: Readonly<Record<keyof ChainParameters, string>> = {
  energyFeeSun: "getEnergyFee",
  bandwidthFeeSun: "getTransactionFee",
  memoFeeSun: "getMemoFee",
  accountActivationFeeSun: "getCreateNewAccountFeeInSystemContract",
  createAccountBandwidthFeeSun: "getCreateAccountFee",
  maxFeeLimitSun: "getMaxFeeLimit",
  unfreezeDelayDays: "getUnfreezeDelayDays",
  freeNetLimit: "getFreeNetLimit",
};

/** The fee parameters from getchainparameters; a key java-tron omits is 0 (its default). */
export async function readChainParameters(client: NodeClient): Promise<ChainParameters> {
  const o = asObject(await client.read("/wallet/getchainparameters"), "chain parameters");
  const list = o.chainParameter;
  if (!Array.isArray(list)) throw badResponse("chainParameter is not a list");
  const values = new Map<string, bigint>();
  for (const entry of list) {
    const e = asObject(entry, "chainParameter[]");
    values.set(strField(e, "key", "chainParameter[]"), intField(e, "value", "chainParameter[]"));
  }
  const out = {} as ChainParameters;
  for (const [field, key] of Object.entries(PARAMETER_KEYS)) {
    out[field as keyof ChainParameters] = values.get(key) ?? 0n;
  }
  return out;
}
