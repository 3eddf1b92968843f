/**
 * A small seeded PRNG (mulberry32): every random choice of a chaos run comes from the printed
 * seed, so a failing run can be replayed with --seed. Process timing still varies between
 * runs; the choices (what, when, which process) do not.
 */
export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** 20 random bytes behind 0x41: a fresh TRON address nobody holds a key for. */
  address(): Uint8Array {
    const a = new Uint8Array(21);
    a[0] = 0x41;
    for (let i = 1; i < 21; i++) a[i] = this.int(0, 255);
    return a;
  }
}
