import { readFileSync } from "node:fs";

/** Resident set size of a process in MiB, from /proc (0 when it is gone). */
export function rssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

/**
 * Proportional set size in MiB, from /proc/PID/smaps_rollup: shared pages (node's binary,
 * libraries) are split among the processes mapping them, so PSS adds up across processes where
 * RSS counts them in each. 0 when the process is gone.
 */
export function pssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const kb = Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

/** The highest reading per process name over a phase. */
export class PeakRss {
  readonly peak = new Map<string, number>();

  constructor(private readonly procs: () => [string, number | undefined][]) {}

  /** Reads every process now and keeps the maxima. */
  sample(): void {
    for (const [name, pid] of this.procs()) {
      this.peak.set(name, Math.max(this.peak.get(name) ?? 0, rssMiB(pid)));
    }
  }
}
