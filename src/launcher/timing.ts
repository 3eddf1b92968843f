import type { Logger } from "../shared/log.js";

/** Wall-clock timing of the launcher's start phases, for its log. */
export interface PhaseTimer {
  /** Awaits `work`, recording when it ended and how long it took under `name`. */
  time<T>(name: string, work: Promise<T> | (() => Promise<T>)): Promise<T>;
  /** Each phase: its duration and when it ended, in ms since the timer started. */
  summary(): Record<string, { ms: number; endAtMs: number }>;
}

/**
 * A timer whose phases are logged at debug level as they end (`LOG_LEVEL=debug npm start`,
 * then read logs/launcher.log). Phases may overlap: each is timed from when it was handed in.
 */
export function phaseTimer(log: Logger, clock: () => number = Date.now): PhaseTimer {
  const started = clock();
  const phases: Record<string, { ms: number; endAtMs: number }> = {};
  return {
    async time(name, work) {
      const from = clock();
      const result = await (typeof work === "function" ? work() : work);
      const end = clock();
      phases[name] = { ms: end - from, endAtMs: end - started };
      log.debug({ phase: name, ms: end - from, endAtMs: end - started }, "launcher phase done");
      return result;
    },
    summary: () => ({ ...phases }),
  };
}
