import { keccak_256 } from "@noble/hashes/sha3.js";
import { hex } from "@scure/base";
import { toHex41 } from "../../shared/address.js";
import { transactionToJson } from "../../tron/json.js";
import { encodeTransactionRaw } from "../../tron/transaction.js";
import type { Handler } from "../http.js";
import type { DevnetNode } from "../node.js";
import { USDT_ADDRESS, USDT_DEPLOYER, USDT_NAME } from "../usdt.js";
import { USDT_ABI_ENTRIES } from "../usdt-abi.js";
import { headReference } from "./builders.js";
import { addressParam, bigParam, hexParam, hexText } from "./params.js";

const USDT_HEX = toHex41(USDT_ADDRESS);

/** The smart-contract endpoints: getcontract(info), trigger(constant)contract, estimateenergy. */
export function contractHandlers(node: DevnetNode): Record<string, Handler> {
  return {
    getcontract: ({ params }) => (addressParam(params, "value") === USDT_HEX ? contractJson() : {}),
    getcontractinfo: ({ params }) => {
      if (addressParam(params, "value") !== USDT_HEX) return {};
      return {
        smart_contract: contractJson(),
        contract_state: { energy_factor: 24_000, update_cycle: 1 },
      };
    },
    triggersmartcontract: ({ params }) => ownerSet(() => triggerSmartContract(node, params)),
    triggerconstantcontract: ({ params }) => ownerSet(() => constantCall(node, params, false)),
    estimateenergy: ({ params }) => ownerSet(() => constantCall(node, params, true)),
  };
}

function ownerSet(answer: () => unknown): unknown {
  try {
    return answer();
  } catch (err) {
    if (err instanceof OwnerNotSet) return OWNER_NOT_SET;
    throw err;
  }
}

function contractJson(): Record<string, unknown> {
  return {
    origin_address: toHex41(USDT_DEPLOYER),
    contract_address: USDT_HEX,
    abi: { entrys: USDT_ABI_ENTRIES },
    consume_user_resource_percent: 100,
    name: USDT_NAME.replace(/\s/g, ""),
    origin_energy_limit: 10_000_000,
  };
}

interface CallArgs {
  owner: string;
  contract: string;
  data: Uint8Array;
  callValue: bigint;
}

/**
 * java-tron's servlets refuse a trigger without owner_address before anything else (an
 * InvalidParameterException, answered as OTHER_ERROR with the class name in the message).
 */
class OwnerNotSet extends Error {}

const OWNER_NOT_SET = {
  result: {
    code: "OTHER_ERROR",
    message: hexText("class java.security.InvalidParameterException : owner_address isn't set."),
  },
};

/** Reads tronweb's trigger arguments: `data`, or `function_selector` + `parameter`. */
function callArgs(params: Readonly<Record<string, unknown>>): CallArgs {
  // Absent or "" (what tronweb sends without a default address). Any well-formed address,
  // the zero address or one with no account included, is a valid caller for a constant call.
  if (params.owner_address === undefined || params.owner_address === "") throw new OwnerNotSet();
  const owner = addressParam(params, "owner_address");
  const contract = addressParam(params, "contract_address");
  let data: Uint8Array;
  if (typeof params.function_selector === "string" && params.function_selector !== "") {
    const selector = keccak_256(
      new TextEncoder().encode(params.function_selector.replace(/\s/g, "")),
    );
    const args = hexParam(params, "parameter");
    data = new Uint8Array(4 + args.length);
    data.set(selector.subarray(0, 4), 0);
    data.set(args, 4);
  } else {
    data = hexParam(params, "data");
  }
  return { owner, contract, data, callValue: bigParam(params, "call_value") };
}

/**
 * Builds the TriggerSmartContract transaction exactly as tronweb re-encodes it for its check:
 * raw fields 1, 4, 8, 11, 14, 18 only, call_value omitted when 0.
 */
function triggerSmartContract(
  node: DevnetNode,
  params: Readonly<Record<string, unknown>>,
): unknown {
  const a = callArgs(params);
  if (a.contract !== USDT_HEX) {
    return {
      result: {
        code: "CONTRACT_VALIDATE_ERROR",
        message: hexText("No contract or not a smart contract"),
      },
    };
  }
  const permissionId = Number(bigParam(params, "Permission_id"));
  const raw = {
    ...headReference(node),
    feeLimit: bigParam(params, "fee_limit"),
    data: new Uint8Array(0),
    contract: {
      type: "TriggerSmartContract" as const,
      owner: hex.decode(a.owner),
      contract: hex.decode(a.contract),
      callValue: a.callValue,
      data: a.data,
      callTokenValue: bigParam(params, "call_token_value"),
      tokenId: bigParam(params, "token_id"),
    },
    permissionId,
  };
  const json = transactionToJson(encodeTransactionRaw(raw));
  return { result: { result: true }, transaction: json };
}

/** triggerconstantcontract / estimateenergy: runs the call on the head state, keeps nothing. */
function constantCall(
  node: DevnetNode,
  params: Readonly<Record<string, unknown>>,
  estimate: boolean,
): unknown {
  const a = callArgs(params);
  if (a.contract !== USDT_HEX) {
    // Wallet.triggerConstantContract's check, a ContractValidateException.
    return {
      result: { code: "CONTRACT_VALIDATE_ERROR", message: hexText("Smart contract is not exist.") },
    };
  }
  const plan = node.constantCall(a.owner, a.data);
  if (estimate) {
    if (!plan.ok) {
      return { result: { code: "CONTRACT_EXE_ERROR", message: hexText("REVERT opcode executed") } };
    }
    return { result: { result: true }, energy_required: plan.energy };
  }
  return {
    result: plan.ok
      ? { result: true }
      : { code: "CONTRACT_EXE_ERROR", message: hexText("REVERT opcode executed") },
    energy_used: plan.energy,
    constant_result: [hex.encode(plan.returnData)],
    ...(plan.ok ? {} : { transaction: { ret: [{ ret: "FAILED" }] } }),
  };
}
