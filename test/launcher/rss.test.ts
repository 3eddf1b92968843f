import { describe, expect, it } from "vitest";
import { pssMiB, rssMiB } from "../../bench/rss.js";

describe("bench/rss.ts", () => {
  it("reads a live process's PSS from smaps_rollup, at most its RSS, and 0 for a gone process", () => {
    const pss = pssMiB(process.pid);
    const rss = rssMiB(process.pid);
    expect(pss).toBeGreaterThan(0);
    expect(pss).toBeLessThanOrEqual(rss + 1);
    expect(pssMiB(2 ** 30)).toBe(0);
  });
});
