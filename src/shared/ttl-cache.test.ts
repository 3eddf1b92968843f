import { describe, expect, it } from "vitest";
import { TtlCache } from "./ttl-cache.js";

describe("TtlCache", () => {
  it("forgets an entry once its time has passed", () => {
    let now = 1_000;
    const cache = new TtlCache<string>(10, () => now);
    cache.set("a", "x", 500);
    now += 499;
    expect(cache.get("a")).toBe("x");
    now += 1;
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("keeps nothing for a time of zero", () => {
    const cache = new TtlCache<string>(10, () => 0);
    cache.set("a", "x", 0);
    expect(cache.get("a")).toBeUndefined();
  });

  it("holds at most its size, dropping the oldest entry first", () => {
    const cache = new TtlCache<number>(3, () => 0);
    for (let i = 0; i < 5; i++) cache.set(`k${i}`, i, 1_000);
    expect(cache.size).toBe(3);
    expect(cache.get("k0")).toBeUndefined();
    expect(cache.get("k1")).toBeUndefined();
    expect([cache.get("k2"), cache.get("k3"), cache.get("k4")]).toEqual([2, 3, 4]);
    // Setting a key again moves it to the back.
    cache.set("k2", 22, 1_000);
    cache.set("k5", 5, 1_000);
    expect(cache.get("k3")).toBeUndefined();
    expect(cache.get("k2")).toBe(22);
  });
});
