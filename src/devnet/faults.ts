import { z } from "zod";

/**
 * Fault injection, set through /admin/faults. Rates are probabilities in [0, 1] rolled per
 * request; the random source is injectable so tests can be exact with rates 0 and 1.
 */

const rate = z.number().min(0).max(1);

/** The faults an admin may set; every field optional in an update. */
export const faultSchema = z.object({
  /** Added to every response, in ms. */
  latencyMs: z.number().int().min(0).max(60_000).default(0),
  /** Share of requests (except /admin) answered 503. */
  errorRate: rate.default(0),
  /** Share of valid broadcasts answered {result:true} but never included. */
  dropRate: rate.default(0),
  /** Share of valid broadcasts included but whose connection is dropped without an answer. */
  timeoutRate: rate.default(0),
  /** Freezes the solidified height where it is. */
  stallSolidity: z.boolean().default(false),
});

/** Current fault settings. */
export type FaultSettings = z.infer<typeof faultSchema>;

/** Holds the settings and rolls the dice. */
export class Faults {
  settings: FaultSettings = faultSchema.parse({});

  constructor(private readonly random: () => number = Math.random) {}

  /** Merges an update (validated) into the settings and returns them. */
  update(patch: unknown): FaultSettings {
    const merged = faultSchema.parse({ ...this.settings, ...(patch as object) });
    this.settings = merged;
    return merged;
  }

  /** Clears every fault. */
  reset(): FaultSettings {
    this.settings = faultSchema.parse({});
    return this.settings;
  }

  /** True with probability `p` (never for 0, always for 1). */
  roll(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.random() < p;
  }
}
