import { randomBytes } from "node:crypto";
import { base32nopad } from "@scure/base";

/** A new random id with a type prefix, e.g. "po_k3…" (16 random bytes, lowercase base32). */
export function newId(prefix: "po" | "pb" | "op" | "wal" | "key" | "wh" | "whd"): string {
  return `${prefix}_${base32nopad.encode(randomBytes(16)).toLowerCase()}`;
}
