import { keccak_256 } from "@noble/hashes/sha3.js";
import { hex } from "@scure/base";
import { ADDRESS_PREFIX, type AddressBytes, toHex41 } from "../shared/address.js";
import { TronDecodeError } from "../tron/decode-error.js";
import {
  APPROVAL_TOPIC,
  decodeCall,
  encodeAddressWord,
  encodeTransferLog,
  encodeUint256,
  type Trc20Call,
} from "../tron/trc20.js";
import type { WorldState } from "./state.js";
import type { LogRecord } from "./tx-record.js";

/**
 * The devnet's TRC-20 USDT, emulated natively (there is no TVM). Energy figures follow
 * TRON.md for transfers; the others are approximations of the same storage-write model
 * (a fresh storage slot costs ~66,000 energy more than an update at USDT's 3.4 factor).
 */

/** A 21-byte address derived from a fixed label, so the contract is the same on every run. */
export function labelAddress(label: string): AddressBytes {
  const out = new Uint8Array(21);
  out[0] = ADDRESS_PREFIX;
  out.set(keccak_256(new TextEncoder().encode(label)).subarray(12), 1);
  return out;
}

/** The devnet USDT contract address. */
export const USDT_ADDRESS: AddressBytes = labelAddress("tronpay devnet USDT (TRC-20)");
/** The account shown as its deployer. */
export const USDT_DEPLOYER: AddressBytes = labelAddress("tronpay devnet USDT deployer");
export const USDT_NAME = "Tether USD";
export const USDT_SYMBOL = "USDT";
export const USDT_DECIMALS = 6n;

/** Energy per call kind. */
export const USDT_ENERGY = {
  transferToHolder: 64_285n,
  transferToNewHolder: 130_285n,
  transferFromExtra: 17_000n,
  approveUpdate: 47_285n,
  approveNew: 113_285n,
  revert: 6_800n,
  constant: 2_000n,
} as const;

// Constant-only getters the signer's TRC-20 subset does not need.
const EXTRA_SELECTORS: Record<string, "name" | "symbol" | "totalSupply"> = {
  "06fdde03": "name",
  "95d89b41": "symbol",
  "18160ddd": "totalSupply",
};

/** The result of running a call without committing it. */
export interface CallPlan {
  readonly ok: boolean;
  readonly energy: bigint;
  /** ABI-encoded return data (or Error(string) revert data). */
  readonly returnData: Uint8Array;
  readonly logs: readonly LogRecord[];
  readonly revertReason?: string;
  /** Applies the call's state changes; only for ok plans. */
  readonly apply: () => void;
}

const NOTHING = () => {};

/** Plans a call of `data` by `caller` (41-hex) without changing state. */
export function planUsdtCall(ws: WorldState, caller: string, data: Uint8Array): CallPlan {
  const extra = EXTRA_SELECTORS[hex.encode(data.subarray(0, 4))];
  if (extra && data.length === 4) return constant(encodeExtra(ws, extra));
  let call: Trc20Call;
  try {
    call = decodeCall(data);
  } catch (err) {
    if (err instanceof TronDecodeError) return revert("");
    throw err;
  }
  switch (call.method) {
    case "balanceOf":
      return constant(encodeUint256(ws.tokenBalance(toHex41(call.owner))));
    case "allowance":
      return constant(encodeUint256(ws.allowance(toHex41(call.owner), toHex41(call.spender))));
    case "decimals":
      return constant(encodeUint256(USDT_DECIMALS));
    case "transfer":
      return planTransfer(ws, caller, toHex41(call.to), call.amount, 0n);
    case "transferFrom":
      return planTransferFrom(ws, caller, call.from, call.to, call.amount);
    case "approve":
      return planApprove(ws, caller, toHex41(call.spender), call.amount);
  }
}

function planTransfer(
  ws: WorldState,
  from: string,
  to: string,
  amount: bigint,
  extraEnergy: bigint,
): CallPlan {
  const fromBalance = ws.tokenBalance(from);
  if (fromBalance < amount) return revert("insufficient balance");
  const toBalance = ws.tokenBalance(to);
  const energy =
    (toBalance > 0n || from === to
      ? USDT_ENERGY.transferToHolder
      : USDT_ENERGY.transferToNewHolder) + extraEnergy;
  const log = encodeTransferLog({
    contract: USDT_ADDRESS,
    from: hex.decode(from),
    to: hex.decode(to),
    amount,
  });
  return {
    ok: true,
    energy,
    returnData: encodeUint256(1n),
    logs: [log],
    apply: () => {
      ws.setTokenBalance(from, ws.tokenBalance(from) - amount);
      ws.setTokenBalance(to, ws.tokenBalance(to) + amount);
    },
  };
}

function planTransferFrom(
  ws: WorldState,
  spender: string,
  fromBytes: AddressBytes,
  toBytes: AddressBytes,
  amount: bigint,
): CallPlan {
  const from = toHex41(fromBytes);
  const allowed = ws.allowance(from, spender);
  if (allowed < amount) return revert("allowance exceeded");
  const plan = planTransfer(ws, from, toHex41(toBytes), amount, USDT_ENERGY.transferFromExtra);
  if (!plan.ok) return plan;
  return {
    ...plan,
    apply: () => {
      plan.apply();
      ws.setAllowance(from, spender, allowed - amount);
    },
  };
}

function planApprove(ws: WorldState, owner: string, spender: string, amount: bigint): CallPlan {
  const current = ws.allowance(owner, spender);
  const log: LogRecord = {
    address: hex.encode(USDT_ADDRESS.subarray(1)),
    topics: [
      APPROVAL_TOPIC,
      hex.encode(encodeAddressWord(hex.decode(owner))),
      hex.encode(encodeAddressWord(hex.decode(spender))),
    ],
    data: hex.encode(encodeUint256(amount)),
  };
  return {
    ok: true,
    energy: current === 0n && amount > 0n ? USDT_ENERGY.approveNew : USDT_ENERGY.approveUpdate,
    returnData: encodeUint256(1n),
    logs: [log],
    apply: () => ws.setAllowance(owner, spender, amount),
  };
}

function constant(returnData: Uint8Array): CallPlan {
  return { ok: true, energy: USDT_ENERGY.constant, returnData, logs: [], apply: NOTHING };
}

function revert(reason: string): CallPlan {
  return {
    ok: false,
    energy: USDT_ENERGY.revert,
    returnData: reason ? encodeErrorString(reason) : new Uint8Array(0),
    logs: [],
    revertReason: reason,
    apply: NOTHING,
  };
}

function encodeExtra(ws: WorldState, what: "name" | "symbol" | "totalSupply"): Uint8Array {
  if (what === "totalSupply") return encodeUint256(ws.tokenSupply());
  return encodeString(what === "name" ? USDT_NAME : USDT_SYMBOL);
}

/** ABI encoding of a single `string` return value. */
function encodeString(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  const padded = Math.ceil(bytes.length / 32) * 32;
  const out = new Uint8Array(64 + padded);
  out.set(encodeUint256(32n), 0);
  out.set(encodeUint256(BigInt(bytes.length)), 32);
  out.set(bytes, 64);
  return out;
}

/** Solidity's revert payload: Error(string) selector 08c379a0 and the encoded string. */
function encodeErrorString(reason: string): Uint8Array {
  const body = encodeString(reason);
  const out = new Uint8Array(4 + body.length);
  out.set(hex.decode("08c379a0"), 0);
  out.set(body, 4);
  return out;
}
