/** Figures of repeated runs: the median and the spread (min–max), so noise is visible. */
export interface Figure {
  median: number;
  min: number;
  max: number;
}

/** Median and min–max of the runs' values. */
export function figure(values: readonly number[]): Figure {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
  return { median, min: s[0] ?? 0, max: s.at(-1) ?? 0 };
}

/** The q-quantile (0..1) of latencies, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? 0;
}

/** "12.3 (11.0–13.1)" with `digits` decimals. */
export function show(f: Figure, digits = 1): string {
  return `${f.median.toFixed(digits)} (${f.min.toFixed(digits)}–${f.max.toFixed(digits)})`;
}
