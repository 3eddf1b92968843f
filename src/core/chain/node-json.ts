import { parse, parseNumberAndBigInt, stringify } from "lossless-json";
import { AppError } from "../../shared/errors.js";

// java-tron writes int64 as bare JSON numbers; JSON.parse would round balances above 2^53,
// so node answers go through lossless-json (integers become bigint) and nothing else.

/** A JSON object from the node. */
export type NodeObject = Record<string, unknown>;

/** The AppError for an answer we cannot use; `detail` goes to the cause, not the client. */
export function badResponse(detail: string, cause?: unknown): AppError {
  return new AppError(
    "node.bad_response",
    "the TRON node answered something we could not understand",
    {
      cause: new Error(detail, cause === undefined ? undefined : { cause }),
    },
  );
}

/** Parses a node answer with exact integers; throws node.bad_response. */
export function parseNodeJson(text: string): unknown {
  try {
    return parse(text, null, parseNumberAndBigInt);
  } catch (err) {
    throw badResponse("answer is not JSON", err);
  }
}

/** Writes a request body; bigints become JSON integers. */
export function nodeJsonBody(body: unknown): string {
  return stringify(body) ?? "{}";
}

/** True for a plain JSON object. */
export function isObject(v: unknown): v is NodeObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `v` as an object; throws node.bad_response. */
export function asObject(v: unknown, what: string): NodeObject {
  if (!isObject(v)) throw badResponse(`${what} is not an object`);
  return v;
}

/** An optional object field; `{}` when absent (java-tron omits defaults). */
export function objField(o: NodeObject, key: string, what: string): NodeObject {
  const v = o[key];
  return v === undefined ? {} : asObject(v, `${what}.${key}`);
}

/** An int64 field; 0 when absent (java-tron omits defaults). Throws node.bad_response. */
export function intField(o: NodeObject, key: string, what: string): bigint {
  const v = o[key];
  if (v === undefined) return 0n;
  if (typeof v === "bigint") return v;
  if (typeof v === "string" && /^-?[0-9]{1,19}$/.test(v)) return BigInt(v);
  throw badResponse(`${what}.${key} is not an integer`);
}

/** An int64 field that must fit a JS number exactly (times, counts). */
export function smallIntField(o: NodeObject, key: string, what: string): number {
  const v = intField(o, key, what);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < 0n)
    throw badResponse(`${what}.${key} out of range`);
  return Number(v);
}

/** A string field; "" when absent. Throws node.bad_response for another type. */
export function strField(o: NodeObject, key: string, what: string): string {
  const v = o[key];
  if (v === undefined) return "";
  if (typeof v !== "string") throw badResponse(`${what}.${key} is not a string`);
  return v;
}

/** A 32-byte id as lowercase hex; throws node.bad_response. */
export function idField(o: NodeObject, key: string, what: string): string {
  const v = strField(o, key, what);
  if (!/^[0-9a-fA-F]{64}$/.test(v)) throw badResponse(`${what}.${key} is not a 32-byte hex id`);
  return v.toLowerCase();
}

/** java-tron's `message` fields are hex of UTF-8 text; falls back to the raw string. */
export function hexMessage(v: unknown): string {
  if (typeof v !== "string") return "";
  if (v.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(v)) return v;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(v, "hex"));
  } catch {
    return v;
  }
}
