/**
 * A small bounded cache with a time to live per entry. Written by hand (a Map keeps insertion
 * order, which is all an oldest-first eviction needs) rather than adding a dependency for
 * thirty lines. Entries past their time are dropped when met; when full, the oldest goes.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly clock: () => number,
  ) {}

  /** The live value under `key`, or undefined. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > this.clock()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  /** Keeps `value` under `key` for `ttlMs` (nothing is kept for ttlMs <= 0). */
  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    if (ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) this.makeRoom();
    this.entries.set(key, { value, until: this.clock() + ttlMs });
  }

  /** Entries held (live or not yet swept). */
  get size(): number {
    return this.entries.size;
  }

  private makeRoom(): void {
    // The first inserted entry is (about) the first to expire: TTLs are all the same or shorter.
    const oldest = this.entries.keys().next().value;
    if (oldest !== undefined) this.entries.delete(oldest);
  }
}
