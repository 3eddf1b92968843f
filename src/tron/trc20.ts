import { ADDRESS_PREFIX, type AddressBytes } from "../shared/address.js";
import { TronDecodeError } from "./decode-error.js";
import { bytesToHex, hexToBytes } from "./hex.js";
import { checkAddress } from "./values.js";

// The TRC-20 ABI subset tronpay uses, written by hand: six fixed-shape calls do not justify
// a general ABI coder in the signer, and strict decoding is easier to audit this way.

/** 4-byte selectors: keccak256 of the signature, first 4 bytes (TRON.md). */
export const SELECTORS = {
  transfer: "a9059cbb",
  balanceOf: "70a08231",
  approve: "095ea7b3",
  allowance: "dd62ed3e",
  transferFrom: "23b872dd",
  decimals: "313ce567",
} as const;

/** A TRC-20 method tronpay knows. */
export type Trc20Method = keyof typeof SELECTORS;

/** topic0 of Transfer(address,address,uint256). */
export const TRANSFER_TOPIC = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
/** topic0 of Approval(address,address,uint256). */
export const APPROVAL_TOPIC = "8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925";

const UINT256_LIMIT = 1n << 256n;

/** A decoded TRC-20 call; addresses are 21 bytes (0x41 ‖ 20). */
export type Trc20Call =
  | { method: "transfer"; to: AddressBytes; amount: bigint }
  | { method: "approve"; spender: AddressBytes; amount: bigint }
  | { method: "balanceOf"; owner: AddressBytes }
  | { method: "allowance"; owner: AddressBytes; spender: AddressBytes }
  | { method: "transferFrom"; from: AddressBytes; to: AddressBytes; amount: bigint }
  | { method: "decimals" };

// Argument kinds per method, in ABI order.
const ARGS: Readonly<Record<Trc20Method, readonly ("address" | "uint256")[]>> = {
  transfer: ["address", "uint256"],
  approve: ["address", "uint256"],
  balanceOf: ["address"],
  allowance: ["address", "address"],
  transferFrom: ["address", "address", "uint256"],
  decimals: [],
};

/** A uint256 as a 32-byte big-endian word; throws bad_value outside 0..2^256-1. */
export function encodeUint256(v: bigint): Uint8Array {
  if (typeof v !== "bigint" || v < 0n || v >= UINT256_LIMIT) {
    throw new TronDecodeError("bad_value", "uint256 must be in 0..2^256-1");
  }
  return hexToBytes(v.toString(16).padStart(64, "0"));
}

/** A 32-byte big-endian word as a bigint; throws unless exactly 32 bytes. */
export function decodeUint256(word: Uint8Array): bigint {
  if (word.length !== 32) throw new TronDecodeError("bad_value", "uint256 word must be 32 bytes");
  return BigInt(`0x${bytesToHex(word)}`);
}

/** An address as an ABI word: the 20 bytes after 0x41, left-padded with 12 zero bytes. */
export function encodeAddressWord(address: AddressBytes): Uint8Array {
  const word = new Uint8Array(32);
  word.set(checkAddress(address, "address").subarray(1), 12);
  return word;
}

/** An ABI address word back to 21 bytes; throws bad_address unless the padding is zero. */
export function decodeAddressWord(word: Uint8Array): AddressBytes {
  if (word.length !== 32 || word.subarray(0, 12).some((b) => b !== 0)) {
    throw new TronDecodeError(
      "bad_address",
      "address word must be 12 zero bytes and 20 address bytes",
    );
  }
  const out = new Uint8Array(21);
  out[0] = ADDRESS_PREFIX;
  out.set(word.subarray(12), 1);
  return out;
}

function encodeCall(method: Trc20Method, words: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(4 + 32 * words.length);
  out.set(hexToBytes(SELECTORS[method]), 0);
  for (const [i, w] of words.entries()) out.set(w, 4 + 32 * i);
  return out;
}

/** Call data for transfer(to, amount). */
export function encodeTransfer(to: AddressBytes, amount: bigint): Uint8Array {
  return encodeCall("transfer", [encodeAddressWord(to), encodeUint256(amount)]);
}

/** Call data for approve(spender, amount). */
export function encodeApprove(spender: AddressBytes, amount: bigint): Uint8Array {
  return encodeCall("approve", [encodeAddressWord(spender), encodeUint256(amount)]);
}

/** Call data for balanceOf(owner). */
export function encodeBalanceOf(owner: AddressBytes): Uint8Array {
  return encodeCall("balanceOf", [encodeAddressWord(owner)]);
}

/** Call data for allowance(owner, spender). */
export function encodeAllowance(owner: AddressBytes, spender: AddressBytes): Uint8Array {
  return encodeCall("allowance", [encodeAddressWord(owner), encodeAddressWord(spender)]);
}

/** Call data for transferFrom(from, to, amount). */
export function encodeTransferFrom(
  from: AddressBytes,
  to: AddressBytes,
  amount: bigint,
): Uint8Array {
  return encodeCall("transferFrom", [
    encodeAddressWord(from),
    encodeAddressWord(to),
    encodeUint256(amount),
  ]);
}

/** Call data for decimals(). */
export function encodeDecimals(): Uint8Array {
  return encodeCall("decimals", []);
}

/** Options for decodeCall. */
export interface DecodeCallOptions {
  /**
   * Ignore the 12 bytes above an address argument, as the TVM does when it masks an address
   * to 160 bits. Some wallets write 0x41 there (the Nile transfer in TRON.md does). Off by
   * default: the signer only signs the zero-padded form it builds itself.
   */
  maskAddresses?: boolean;
}

/**
 * Strictly decodes TRC-20 call data: a known selector, exactly the argument words the method
 * takes, zero-padded addresses (unless maskAddresses). Throws TronDecodeError otherwise.
 */
export function decodeCall(data: Uint8Array, options: DecodeCallOptions = {}): Trc20Call {
  if (data.length < 4) throw new TronDecodeError("truncated", "call data shorter than a selector");
  const selector = bytesToHex(data.subarray(0, 4));
  const method = (Object.keys(SELECTORS) as Trc20Method[]).find((m) => SELECTORS[m] === selector);
  if (!method) throw new TronDecodeError("unknown_method", `unknown selector ${selector}`);
  const kinds = ARGS[method];
  const want = 4 + 32 * kinds.length;
  if (data.length < want)
    throw new TronDecodeError("truncated", `${method} call data is too short`);
  if (data.length > want)
    throw new TronDecodeError("trailing_garbage", `${method} call data is too long`);
  const args = kinds.map((kind, i) => {
    const word = data.subarray(4 + 32 * i, 4 + 32 * (i + 1));
    if (kind === "uint256") return decodeUint256(word);
    return decodeAddressWord(options.maskAddresses ? maskedWord(word) : word);
  });
  return buildCall(method, args);
}

function maskedWord(word: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  out.set(word.subarray(12), 12);
  return out;
}

function buildCall(method: Trc20Method, a: (AddressBytes | bigint)[]): Trc20Call {
  const addr = (i: number) => a[i] as AddressBytes;
  const num = (i: number) => a[i] as bigint;
  switch (method) {
    case "transfer":
      return { method, to: addr(0), amount: num(1) };
    case "approve":
      return { method, spender: addr(0), amount: num(1) };
    case "balanceOf":
      return { method, owner: addr(0) };
    case "allowance":
      return { method, owner: addr(0), spender: addr(1) };
    case "transferFrom":
      return { method, from: addr(0), to: addr(1), amount: num(2) };
    case "decimals":
      return { method };
  }
}

/** A log entry as java-tron's transaction info shows it: hex, address without 41. */
export interface JsonLog {
  address: string;
  topics: string[];
  data: string;
}

/** A TRC-20 Transfer event in our types. */
export interface TransferEvent {
  contract: AddressBytes;
  from: AddressBytes;
  to: AddressBytes;
  amount: bigint;
}

/** The java-tron transaction-info log for a TRC-20 Transfer event. */
export function encodeTransferLog(e: TransferEvent): JsonLog {
  return {
    address: bytesToHex(checkAddress(e.contract, "contract").subarray(1)),
    topics: [
      TRANSFER_TOPIC,
      bytesToHex(encodeAddressWord(e.from)),
      bytesToHex(encodeAddressWord(e.to)),
    ],
    data: bytesToHex(encodeUint256(e.amount)),
  };
}

/**
 * Reads a TRC-20 Transfer event from a java-tron log (hex of any case). Throws TronDecodeError
 * unless it has topic0 = TRANSFER_TOPIC, exactly two indexed addresses and a 32-byte amount.
 */
export function decodeTransferLog(log: JsonLog): TransferEvent {
  const address = hexToBytes(log.address, "log.address");
  if (address.length !== 20)
    throw new TronDecodeError("bad_address", "log.address must be 20 bytes");
  if (!Array.isArray(log.topics) || log.topics.length !== 3) {
    throw new TronDecodeError("bad_value", "a Transfer log has exactly 3 topics");
  }
  const [t0, t1, t2] = log.topics.map((t, i) => hexToBytes(t, `log.topics[${i}]`));
  if (bytesToHex(t0 as Uint8Array) !== TRANSFER_TOPIC) {
    throw new TronDecodeError("bad_value", "log is not a Transfer event");
  }
  const contract = new Uint8Array(21);
  contract[0] = ADDRESS_PREFIX;
  contract.set(address, 1);
  return {
    contract,
    from: decodeAddressWord(t1 as Uint8Array),
    to: decodeAddressWord(t2 as Uint8Array),
    amount: decodeUint256(hexToBytes(log.data, "log.data")),
  };
}
