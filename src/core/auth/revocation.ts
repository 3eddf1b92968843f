import type { Redis } from "ioredis";

/**
 * Revoked token ids (jti), kept until the token would have expired anyway. Checked on every
 * JWT call. With Redis, revocations are shared by every replica; a copy is always kept in
 * memory too, so this replica's revocations (and those synced from the database) still hold
 * while Redis is unreachable.
 */
export interface RevocationList {
  /** Records `jti` as revoked until `untilMs`. */
  revoke(jti: string, untilMs: number): Promise<void>;
  /** True when `jti` is revoked. */
  isRevoked(jti: string): Promise<boolean>;
}

/** An in-memory list; entries past their expiry are dropped as they are met. */
export class MemoryRevocationList implements RevocationList {
  private readonly until = new Map<string, number>();
  constructor(private readonly clock: () => number) {}

  async revoke(jti: string, untilMs: number): Promise<void> {
    this.until.set(jti, Math.max(untilMs, this.until.get(jti) ?? 0));
    if (this.until.size % 1024 === 0) this.sweep();
  }

  async isRevoked(jti: string): Promise<boolean> {
    const until = this.until.get(jti);
    if (until === undefined) return false;
    if (until > this.clock()) return true;
    this.until.delete(jti);
    return false;
  }

  private sweep(): void {
    const now = this.clock();
    for (const [jti, until] of this.until) if (until <= now) this.until.delete(jti);
  }
}

/** Redis-backed list (SET … PXAT) over a memory copy; Redis errors fall back to the copy. */
export class RedisRevocationList implements RevocationList {
  private readonly memory: MemoryRevocationList;
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly clock: () => number,
    private readonly onError: (err: unknown) => void,
  ) {
    this.memory = new MemoryRevocationList(clock);
  }

  async revoke(jti: string, untilMs: number): Promise<void> {
    await this.memory.revoke(jti, untilMs);
    if (untilMs <= this.clock()) return;
    try {
      await this.redis.set(this.key(jti), "1", "PXAT", untilMs);
    } catch (err) {
      this.onError(err);
    }
  }

  async isRevoked(jti: string): Promise<boolean> {
    if (await this.memory.isRevoked(jti)) return true;
    try {
      return (await this.redis.exists(this.key(jti))) === 1;
    } catch (err) {
      this.onError(err);
      return false;
    }
  }

  private key(jti: string): string {
    return `${this.prefix}revoked:${jti}`;
  }
}
