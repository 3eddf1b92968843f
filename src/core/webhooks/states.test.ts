import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { EndpointOutcome } from "./repo.js";
import {
  assertDeliveryTransition,
  assertEndpointTransition,
  ENDPOINT_OPERATOR_TRANSITIONS,
  ENDPOINT_STATES,
  ENDPOINT_TRANSITIONS,
  redeliverableStatuses,
  stateAfterOutcome,
} from "./states.js";

describe("webhook endpoint states", () => {
  it("moves on delivery outcomes as the table says", () => {
    const movedBy = (outcome: EndpointOutcome) =>
      Object.fromEntries(ENDPOINT_STATES.map((s) => [s, stateAfterOutcome(s, outcome)]));
    expect(movedBy("success")).toEqual({
      ACTIVE: "ACTIVE",
      FAILING: "ACTIVE",
      DISABLED: "DISABLED",
    });
    expect(movedBy("gave_up")).toEqual({
      ACTIVE: "FAILING",
      FAILING: "FAILING",
      DISABLED: "DISABLED",
    });
    expect(movedBy("failure")).toEqual({
      ACTIVE: "ACTIVE",
      FAILING: "FAILING",
      DISABLED: "DISABLED",
    });
    expect(movedBy("gone")).toEqual({
      ACTIVE: "DISABLED",
      FAILING: "DISABLED",
      DISABLED: "DISABLED",
    });
  });

  it("never enables a disabled endpoint on its own; only an operator does", () => {
    expect(ENDPOINT_TRANSITIONS.DISABLED).toEqual([]);
    expect(() => assertEndpointTransition("DISABLED", "ACTIVE", "system")).toThrow();
    expect(() => assertEndpointTransition("DISABLED", "ACTIVE", "operator")).not.toThrow();
  });

  it("lets an operator only enable or disable, never mark FAILING", () => {
    for (const s of ENDPOINT_STATES)
      expect(ENDPOINT_OPERATOR_TRANSITIONS[s]).not.toContain("FAILING");
    expect(() => assertEndpointTransition("ACTIVE", "FAILING", "operator")).toThrow();
    // Staying is no move: enabling an ACTIVE endpoint is allowed (it clears its failure count).
    expect(() => assertEndpointTransition("ACTIVE", "ACTIVE", "operator")).not.toThrow();
  });

  it("matches the states the database allows", () => {
    const schema = readFileSync(
      new URL("../db/migrations/004_webhooks.sql", import.meta.url),
      "utf8",
    );
    const check = /state\s+text NOT NULL DEFAULT 'ACTIVE' CHECK \(state IN \(([^)]*)\)\)/.exec(
      schema,
    );
    const allowed = (check?.[1] ?? "").split(", ").map((s) => s.replace(/'/g, ""));
    expect(allowed.sort()).toEqual([...ENDPOINT_STATES].sort());
  });
});

describe("webhook delivery statuses", () => {
  it("settles a PENDING delivery once; only a redelivery makes it PENDING again", () => {
    expect(() => assertDeliveryTransition("PENDING", "DELIVERED", "system")).not.toThrow();
    expect(() => assertDeliveryTransition("PENDING", "FAILED", "system")).not.toThrow();
    expect(() => assertDeliveryTransition("FAILED", "PENDING", "system")).toThrow();
    expect(() => assertDeliveryTransition("DELIVERED", "FAILED", "system")).toThrow();
    expect(() => assertDeliveryTransition("FAILED", "PENDING", "operator")).not.toThrow();
    expect(() => assertDeliveryTransition("PENDING", "DELIVERED", "operator")).toThrow();
    expect(redeliverableStatuses().sort()).toEqual(["DELIVERED", "FAILED", "PENDING"]);
  });

  it("matches the statuses the database allows", () => {
    const schema = readFileSync(
      new URL("../db/migrations/004_webhooks.sql", import.meta.url),
      "utf8",
    );
    const check = /CHECK \(status IN \(([^)]*)\)\)/.exec(schema);
    const allowed = (check?.[1] ?? "").split(", ").map((s) => s.replace(/'/g, ""));
    expect(allowed.sort()).toEqual(["DELIVERED", "FAILED", "PENDING"]);
  });
});
