/**
 * The devnet's key-value world state. Every change made while executing one transaction is
 * tracked, so that a failed validation rolls back completely (java-tron discards its pending
 * session the same way) and a successful one yields a write set: the post-values of the keys
 * it touched. Write sets are replayed onto the solidified state when their block solidifies,
 * which keeps `/walletsolidity/*` exact without re-executing anything.
 */

/** A stored value: plain data (objects, arrays, strings, numbers, bigints). */
export type StoredValue = unknown;

/** Post-values of the keys one operation touched, in order; undefined means deleted. */
export type WriteSet = [key: string, value: StoredValue | undefined][];

/** A plain map of world state. */
export type StateMap = Map<string, StoredValue>;

/** Reads and writes a StateMap while remembering original values for rollback. */
export class TrackedState {
  private readonly originals = new Map<string, StoredValue | undefined>();

  constructor(readonly map: StateMap) {}

  /** The current value of `key`, or undefined. Callers must not mutate it in place. */
  get<T>(key: string): T | undefined {
    return this.map.get(key) as T | undefined;
  }

  /** Replaces the value of `key` (undefined deletes it). */
  set(key: string, value: StoredValue | undefined): void {
    if (!this.originals.has(key)) this.originals.set(key, this.map.get(key));
    if (value === undefined) this.map.delete(key);
    else this.map.set(key, value);
  }

  /** Restores every touched key to its value before tracking began. */
  rollback(): void {
    for (const [key, value] of this.originals) {
      if (value === undefined) this.map.delete(key);
      else this.map.set(key, value);
    }
    this.originals.clear();
  }

  /** The post-values of the touched keys, and stops tracking them. */
  commit(): WriteSet {
    const writes: WriteSet = [];
    for (const key of this.originals.keys()) writes.push([key, this.map.get(key)]);
    this.originals.clear();
    return writes;
  }
}

/** Applies a write set to a map (used for the solidified state and on load). */
export function applyWrites(map: StateMap, writes: WriteSet): void {
  for (const [key, value] of writes) {
    if (value === undefined) map.delete(key);
    else map.set(key, value);
  }
}
