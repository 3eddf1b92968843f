import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { assertTopUpTransition, TOPUP_TRANSITIONS, type TopUpState } from "./topup-repo.js";

describe("energy top-up states", () => {
  const states = Object.keys(TOPUP_TRANSITIONS) as TopUpState[];

  it("decides a PENDING batch once, into any outcome, and keeps the decision", () => {
    for (const s of states) {
      if (s === "PENDING") expect(TOPUP_TRANSITIONS[s]).toHaveLength(states.length - 1);
      else expect(TOPUP_TRANSITIONS[s]).toEqual([]);
    }
    expect(() => assertTopUpTransition("PENDING", "DELEGATED")).not.toThrow();
    expect(() => assertTopUpTransition("COOLDOWN", "DELEGATED")).toThrow();
    expect(() => assertTopUpTransition("DELEGATED", "PENDING")).toThrow();
  });

  it("matches the states the database allows", () => {
    const schema = readFileSync(
      new URL("../db/migrations/007_energy_topups.sql", import.meta.url),
      "utf8",
    );
    const check = /CHECK \(state IN \(([^)]*)\)\)/.exec(schema)?.[1] ?? "";
    expect(
      check
        .replace(/\s+/g, " ")
        .split(", ")
        .map((s) => s.replace(/'/g, ""))
        .sort(),
    ).toEqual([...states].sort());
  });
});
