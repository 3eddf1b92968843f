import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors.js";
import {
  ATTEMPT_TRANSITIONS,
  assertTransition,
  OPERATION_STATES,
  OPERATION_TRANSITIONS,
  OPERATOR_TRANSITIONS,
  TERMINAL_STATES,
  UNSIGNED_STATES,
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

  it("lets an operator retry a FAILED operation back to QUEUED, and nothing else out of FAILED", () => {
    expect(OPERATOR_TRANSITIONS.FAILED).toEqual(["QUEUED"]);
    expect(() => assertTransition("FAILED", "QUEUED", "operator")).not.toThrow();
    // The engine never requeues a failure on its own.
    expect(() => assertTransition("FAILED", "QUEUED")).toThrow(AppError);
    expect(() => assertTransition("FAILED", "QUEUED", "engine")).toThrow(AppError);
  });

  it("refuses a move in neither table, whoever asks", () => {
    for (const by of ["engine", "operator"] as const) {
      for (const [from, to] of [
        ["CONFIRMED", "QUEUED"],
        ["CANCELLED", "QUEUED"],
        ["FAILED", "CONFIRMED"],
        ["BROADCAST", "CANCELLED"],
        ["SIGNED", "CANCELLED"],
        ["AWAITING_APPROVAL", "SIGNED"],
      ] as const) {
        let error: unknown;
        try {
          assertTransition(from, to, by);
        } catch (err) {
          error = err;
        }
        expect(error, `${by}: ${from} → ${to}`).toBeInstanceOf(AppError);
        expect((error as AppError).reason).toBe("payout.invalid_state");
        expect((error as AppError).metadata).toEqual({ state: from });
      }
    }
  });

  it("keeps operator moves (approve, cancel) out of the engine's table, and the reverse", () => {
    expect(() => assertTransition("AWAITING_APPROVAL", "QUEUED")).toThrow(AppError);
    expect(() => assertTransition("QUEUED", "CANCELLED")).toThrow(AppError);
    expect(() => assertTransition("AWAITING_APPROVAL", "QUEUED", "operator")).not.toThrow();
    expect(() => assertTransition("QUEUED", "SIGNED", "operator")).toThrow(AppError);
    expect(() => assertTransition("BROADCAST", "CONFIRMED", "operator")).toThrow(AppError);
  });

  it("lets an operator cancel exactly the unsigned states", () => {
    expect([...UNSIGNED_STATES].sort()).toEqual(["AWAITING_APPROVAL", "HELD", "QUEUED"]);
    for (const s of OPERATION_STATES)
      expect(OPERATOR_TRANSITIONS[s].includes("CANCELLED")).toBe(UNSIGNED_STATES.includes(s));
  });

  it("matches the states the database allows", () => {
    const schema = readFileSync(new URL("../db/migrations/001_init.sql", import.meta.url), "utf8");
    for (const s of OPERATION_STATES) expect(schema).toContain(`'${s}'`);
    for (const s of Object.keys(ATTEMPT_TRANSITIONS)) expect(schema).toContain(`'${s}'`);
  });
});
