import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors.js";
import {
  ATTEMPT_TRANSITIONS,
  assertTransition,
  OPERATION_STATES,
  OPERATION_TRANSITIONS,
  TERMINAL_STATES,
} from "./state.js";

describe("operation states", () => {
  it("lets terminal states go nowhere", () => {
    for (const s of TERMINAL_STATES) expect(OPERATION_TRANSITIONS[s]).toEqual([]);
  });

  it("never lets a signed or broadcast operation be cancelled", () => {
    expect(OPERATION_TRANSITIONS.SIGNED).not.toContain("CANCELLED");
    expect(OPERATION_TRANSITIONS.BROADCAST).not.toContain("CANCELLED");
    expect(() => assertTransition("BROADCAST", "CANCELLED")).toThrow(AppError);
  });

  it("reaches CONFIRMED only from BROADCAST", () => {
    const from = OPERATION_STATES.filter((s) => OPERATION_TRANSITIONS[s].includes("CONFIRMED"));
    expect(from).toEqual(["BROADCAST"]);
  });

  it("matches the states the database allows", () => {
    const schema = readFileSync(new URL("../db/migrations/001_init.sql", import.meta.url), "utf8");
    for (const s of OPERATION_STATES) expect(schema).toContain(`'${s}'`);
    for (const s of Object.keys(ATTEMPT_TRANSITIONS)) expect(schema).toContain(`'${s}'`);
  });
});
