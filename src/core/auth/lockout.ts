/**
 * Failed-authentication lockout, per client address, in this process's memory: after
 * `maxFailures` failures within one fixed window of `windowMs`, every request from that
 * address is refused until the window ends. Fixed windows are crude (a burst across a boundary
 * gets up to twice the limit) but simple and enough here: secrets are 256-bit, so this limits
 * log noise and database load, not guessing. Per-replica and lost on restart; the Redis-backed
 * limits (rate-limiter-flexible) replace it later.
 */

export interface LockoutOptions {
  maxFailures: number;
  windowMs: number;
  /** Bound on tracked addresses, so a flood of addresses cannot grow memory without end. */
  maxTracked?: number;
}

interface Window {
  start: number;
  failures: number;
}

/** Counts failures per address and says when an address is locked out. */
export class FailureLockout {
  private readonly windows = new Map<string, Window>();
  private readonly maxTracked: number;

  constructor(private readonly options: LockoutOptions) {
    this.maxTracked = options.maxTracked ?? 10_000;
  }

  /** Milliseconds until `address` may try again; 0 when it is not locked out. */
  retryAfter(address: string, now: number): number {
    const w = this.windows.get(address);
    if (!w) return 0;
    const end = w.start + this.options.windowMs;
    if (now >= end) {
      this.windows.delete(address);
      return 0;
    }
    return w.failures >= this.options.maxFailures ? end - now : 0;
  }

  /** Records one failed authentication from `address`. */
  fail(address: string, now: number): void {
    const w = this.windows.get(address);
    if (w && now < w.start + this.options.windowMs) {
      w.failures++;
      return;
    }
    if (!w && this.windows.size >= this.maxTracked) this.prune(now);
    this.windows.set(address, { start: now, failures: 1 });
  }

  private prune(now: number): void {
    for (const [address, w] of this.windows) {
      if (now >= w.start + this.options.windowMs) this.windows.delete(address);
    }
    // Still full: forget the oldest entry rather than refuse to count new addresses.
    if (this.windows.size >= this.maxTracked) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
  }
}
