import { TronDecodeError } from "./decode-error.js";

// A strict reader for the protobuf wire format. protobuf-es parses leniently (it keeps
// unknown fields, accepts duplicates and lets the last one win); the signer must instead
// refuse anything it would not produce itself, and say precisely why, so this is by hand.

/** How a field travels: varint (wire type 0) or length-delimited (wire type 2). */
export type WireKind = "varint" | "bytes";

/** One field of a message schema. */
export interface FieldSpec {
  readonly name: string;
  readonly kind: WireKind;
  readonly repeated?: boolean;
}

/** Field number → spec; any other field number is refused. */
export type MessageSpec = Readonly<Record<number, FieldSpec>>;

/** A field as read from the wire. */
export type WireValue =
  | { readonly kind: "varint"; readonly value: bigint }
  | { readonly kind: "bytes"; readonly value: Uint8Array };

const MAX_VARINT_BYTES = 10;

/**
 * Reads every field of one message, checking each against `spec`. Throws TronDecodeError on
 * truncation, bytes that are not a field, unknown fields, wrong wire types and repeats of a
 * non-repeated field.
 */
export function readMessage(
  buf: Uint8Array,
  spec: MessageSpec,
  path: string,
): Map<number, WireValue[]> {
  const fields = new Map<number, WireValue[]>();
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, afterTag] = readVarint(buf, pos, path);
    const no = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (no === 0 || tag > 0xffffffffn || ![0, 1, 2, 5].includes(wireType)) {
      throw new TronDecodeError(
        "trailing_garbage",
        `${path}: bytes at offset ${start} are not a protobuf field`,
      );
    }
    const field = spec[no];
    if (!field) throw new TronDecodeError("unknown_field", `${path}: unknown field ${no}`);
    const value = readValue(buf, afterTag, wireType, field, `${path}.${field.name}`);
    pos = value.next;
    const list = fields.get(no) ?? [];
    if (list.length > 0 && !field.repeated) {
      throw new TronDecodeError("duplicate_field", `${path}.${field.name} appears twice`);
    }
    list.push(value.value);
    fields.set(no, list);
  }
  return fields;
}

function readValue(
  buf: Uint8Array,
  pos: number,
  wireType: number,
  field: FieldSpec,
  path: string,
): { value: WireValue; next: number } {
  const expected = field.kind === "varint" ? 0 : 2;
  if (wireType !== expected) {
    throw new TronDecodeError(
      "wrong_wire_type",
      `${path}: wire type ${wireType}, want ${expected}`,
    );
  }
  const [n, after] = readVarint(buf, pos, path);
  if (field.kind === "varint") return { value: { kind: "varint", value: n }, next: after };
  const end = after + Number(n);
  if (n > BigInt(buf.length) || end > buf.length) {
    throw new TronDecodeError("truncated", `${path}: ${n} bytes announced, fewer present`);
  }
  return { value: { kind: "bytes", value: buf.subarray(after, end) }, next: end };
}

/** Reads an unsigned varint of at most 64 bits; returns it and the next offset. */
export function readVarint(buf: Uint8Array, pos: number, path: string): [bigint, number] {
  let result = 0n;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    const b = buf[pos + i];
    if (b === undefined) throw new TronDecodeError("truncated", `${path}: varint cut short`);
    if (i === MAX_VARINT_BYTES - 1 && b > 1) {
      throw new TronDecodeError("bad_value", `${path}: varint overflows 64 bits`);
    }
    result |= BigInt(b & 0x7f) << BigInt(7 * i);
    if ((b & 0x80) === 0) return [result, pos + i + 1];
  }
  throw new TronDecodeError("bad_value", `${path}: varint longer than 10 bytes`);
}

/** The single value of a non-repeated field, or undefined when absent. */
export function single(fields: Map<number, WireValue[]>, no: number): WireValue | undefined {
  return fields.get(no)?.[0];
}

/** A varint field read as a non-negative int64 (0 when absent); negatives are refused. */
export function int64Field(fields: Map<number, WireValue[]>, no: number, path: string): bigint {
  const v = single(fields, no);
  if (!v) return 0n;
  const n = BigInt.asIntN(64, v.value as bigint);
  if (n < 0n) throw new TronDecodeError("bad_value", `${path} is negative`);
  return n;
}

/** A length-delimited field's bytes (empty when absent). */
export function bytesField(fields: Map<number, WireValue[]>, no: number): Uint8Array {
  const v = single(fields, no);
  return v ? (v.value as Uint8Array) : new Uint8Array(0);
}
