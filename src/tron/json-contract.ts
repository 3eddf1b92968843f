import { type AddressBytes, toHex41, tryParseAddress } from "../shared/address.js";
import type { ContractType, DecodedContract, Resource } from "./contracts.js";
import { TronDecodeError } from "./decode-error.js";
import { bytesToHex, hexToBytes } from "./hex.js";

// java-tron's JSON for a contract parameter value (visible=false): snake_case fields,
// addresses as 41-hex, int64 as JSON numbers, enums by name, and every field that holds its
// proto3 default left out.

/** A JSON object as parsed from a node or tronweb. */
export type JsonObject = Record<string, unknown>;

/** An int64 as a JSON number; refuses values JSON numbers cannot carry exactly. */
export function jsonNumber(v: bigint, path: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new TronDecodeError("bad_value", `${path} is too large for a JSON number`);
  }
  return Number(v);
}

/** The java-tron JSON `parameter.value` of a contract. */
export function contractValueToJson(c: DecodedContract): JsonObject {
  const out: JsonObject = { owner_address: toHex41(c.owner) };
  const put = (key: string, v: bigint) => {
    if (v !== 0n) out[key] = jsonNumber(v, key);
  };
  const putResource = (r: Resource) => {
    if (r !== "BANDWIDTH") out.resource = r;
  };
  switch (c.type) {
    case "TransferContract":
      out.to_address = toHex41(c.to);
      put("amount", c.amount);
      break;
    case "TriggerSmartContract":
      out.contract_address = toHex41(c.contract);
      put("call_value", c.callValue);
      if (c.data.length > 0) out.data = bytesToHex(c.data);
      put("call_token_value", c.callTokenValue);
      put("token_id", c.tokenId);
      break;
    case "FreezeBalanceV2Contract":
      put("frozen_balance", c.frozenBalance);
      putResource(c.resource);
      break;
    case "UnfreezeBalanceV2Contract":
      put("unfreeze_balance", c.unfreezeBalance);
      putResource(c.resource);
      break;
    case "DelegateResourceContract":
    case "UnDelegateResourceContract":
      putResource(c.resource);
      put("balance", c.balance);
      out.receiver_address = toHex41(c.receiver);
      if (c.type === "DelegateResourceContract" && c.lock) out.lock = true;
      if (c.type === "DelegateResourceContract") put("lock_period", c.lockPeriod);
      break;
    case "WithdrawExpireUnfreezeContract":
    case "CancelAllUnfreezeV2Contract":
      break;
  }
  return out;
}

/** Reads a JSON int64: a safe-integer number or a decimal string; absent is 0. */
export function readInt(obj: JsonObject, key: string, path: string): bigint {
  const v = obj[key];
  if (v === undefined || v === null) return 0n;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "string" && /^[0-9]{1,19}$/.test(v)) return BigInt(v);
  throw new TronDecodeError("bad_json", `${path}.${key} is not a non-negative integer`);
}

function readAddress(obj: JsonObject, key: string, path: string): AddressBytes {
  const v = obj[key];
  const bytes = typeof v === "string" ? tryParseAddress(v) : undefined;
  if (!bytes) throw new TronDecodeError("bad_address", `${path}.${key} is not a TRON address`);
  return bytes;
}

function readResource(obj: JsonObject, path: string): Resource {
  const v = obj.resource ?? "BANDWIDTH";
  if (v !== "BANDWIDTH" && v !== "ENERGY" && v !== "TRON_POWER") {
    throw new TronDecodeError("bad_json", `${path}.resource is not a ResourceCode name`);
  }
  return v;
}

/** Reads a java-tron JSON `parameter.value` (41-hex or base58 addresses) for `type`. */
export function contractValueFromJson(type: ContractType, v: JsonObject): DecodedContract {
  const p = `${type}.value`;
  const owner = readAddress(v, "owner_address", p);
  switch (type) {
    case "TransferContract":
      return { type, owner, to: readAddress(v, "to_address", p), amount: readInt(v, "amount", p) };
    case "TriggerSmartContract":
      return {
        type,
        owner,
        contract: readAddress(v, "contract_address", p),
        callValue: readInt(v, "call_value", p),
        data:
          v.data === undefined
            ? new Uint8Array(0)
            : hexToBytes(v.data as string, `${p}.data`, "bad_json"),
        callTokenValue: readInt(v, "call_token_value", p),
        tokenId: readInt(v, "token_id", p),
      };
    case "FreezeBalanceV2Contract":
      return {
        type,
        owner,
        frozenBalance: readInt(v, "frozen_balance", p),
        resource: readResource(v, p),
      };
    case "UnfreezeBalanceV2Contract":
      return {
        type,
        owner,
        unfreezeBalance: readInt(v, "unfreeze_balance", p),
        resource: readResource(v, p),
      };
    case "DelegateResourceContract":
      if (v.lock !== undefined && typeof v.lock !== "boolean") {
        throw new TronDecodeError("bad_json", `${p}.lock is not a boolean`);
      }
      return {
        type,
        owner,
        resource: readResource(v, p),
        balance: readInt(v, "balance", p),
        receiver: readAddress(v, "receiver_address", p),
        lock: v.lock === true,
        lockPeriod: readInt(v, "lock_period", p),
      };
    case "UnDelegateResourceContract":
      return {
        type,
        owner,
        resource: readResource(v, p),
        balance: readInt(v, "balance", p),
        receiver: readAddress(v, "receiver_address", p),
      };
    case "WithdrawExpireUnfreezeContract":
    case "CancelAllUnfreezeV2Contract":
      return { type, owner };
  }
}
