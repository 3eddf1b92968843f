import { quantile } from "./stats.js";

/** One closed-loop run: `inFlight` callers, each calling again as soon as it is answered. */
export interface LoopRun {
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
}

/**
 * Calls `call(i)` from `inFlight` loops for `ms` milliseconds (plain client loops: the load
 * generator is never the code under test). Errors are counted and excluded from latencies.
 */
export async function closedLoop(
  inFlight: number,
  ms: number,
  call: (i: number) => Promise<void>,
): Promise<LoopRun> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const end = performance.now() + ms;
  const loop = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await call(next++);
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, loop));
  const seconds = (performance.now() - t0) / 1000;
  return {
    rps: latencies.length / seconds,
    p50: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    p99: quantile(latencies, 0.99),
    errors,
  };
}
