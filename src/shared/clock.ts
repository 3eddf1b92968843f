/**
 * The time a decision is made against (ms since the epoch). Passed in wherever "now" decides
 * behaviour (expiry, rate windows, cooling-off, replacement waits, journal and signature
 * timestamps) so that tests can step it; durations measured only for metrics or logs read the
 * system clock (performance.now) directly.
 */
export type Clock = () => number;

/** The system's wall clock. */
export const systemClock: Clock = () => Date.now();
