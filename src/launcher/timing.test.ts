import pino from "pino";
import { describe, expect, it } from "vitest";
import { phaseTimer } from "./timing.js";

describe("phaseTimer", () => {
  it("times each phase from when it was handed in, overlapping ones included", async () => {
    let now = 1_000;
    const timer = phaseTimer(pino({ level: "silent" }), () => now);
    now = 1_010;
    const slow = timer.time("database", async () => {
      await Promise.resolve();
      now = 1_050;
      return "db";
    });
    expect(await slow).toBe("db");
    now = 1_070;
    expect(await timer.time("signer", Promise.resolve(7))).toBe(7);
    expect(timer.summary()).toEqual({
      database: { ms: 40, endAtMs: 50 },
      signer: { ms: 0, endAtMs: 70 },
    });
  });

  it("records nothing for a phase that fails, and passes its error on", async () => {
    const timer = phaseTimer(pino({ level: "silent" }), () => 0);
    await expect(timer.time("bad", Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(timer.summary()).toEqual({});
  });

  it("logs every phase at debug level as it ends", async () => {
    const lines: string[] = [];
    const log = pino({ level: "debug" }, { write: (l: string) => lines.push(l) });
    let now = 0;
    const timer = phaseTimer(log, () => now);
    now = 5;
    await timer.time("devnet", Promise.resolve());
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({
      msg: "launcher phase done",
      phase: "devnet",
      ms: 0,
      endAtMs: 5,
    });
  });
});
