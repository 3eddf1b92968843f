import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  assertBatchTransition,
  BATCH_STATES,
  BATCH_TRANSITIONS,
  batchStatesInto,
} from "./batch-repo.js";

describe("payout batch states", () => {
  it("closes a processing batch into any outcome, and nothing else closes", () => {
    expect(BATCH_TRANSITIONS.PROCESSING).toEqual([
      "COMPLETED",
      "PARTIALLY_FAILED",
      "FAILED",
      "CANCELLED",
    ]);
    for (const s of BATCH_STATES.filter((s) => s !== "PROCESSING"))
      expect(BATCH_TRANSITIONS[s]).toEqual(
        s === "PARTIALLY_FAILED" || s === "FAILED" ? ["PROCESSING"] : [],
      );
  });

  it("reopens only a batch that holds a FAILED payout (a retry)", () => {
    expect(batchStatesInto("PROCESSING")).toEqual(["PARTIALLY_FAILED", "FAILED"]);
    expect(() => assertBatchTransition("COMPLETED", "PROCESSING")).toThrow();
    expect(() => assertBatchTransition("CANCELLED", "PROCESSING")).toThrow();
    expect(() => assertBatchTransition("FAILED", "COMPLETED")).toThrow();
    expect(() => assertBatchTransition("PROCESSING", "FAILED")).not.toThrow();
  });

  it("matches the states the database allows", () => {
    const schema = readFileSync(new URL("../db/migrations/001_init.sql", import.meta.url), "utf8");
    expect(schema).toContain(`CHECK (state IN (${BATCH_STATES.map((s) => `'${s}'`).join(", ")}))`);
  });
});
