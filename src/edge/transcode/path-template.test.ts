import { describe, expect, it } from "vitest";
import { bindVariables, parsePathTemplate } from "./path-template.js";

describe("parsePathTemplate", () => {
  it.each([
    ["/v1/payouts", ["v1", "payouts"], [], undefined],
    ["/v1/payouts/{id}", ["v1", "payouts", "*"], [["id", 2, 3]], undefined],
    ["/v1/payouts/{id}:cancel", ["v1", "payouts", "*"], [["id", 2, 3]], "cancel"],
    ["/v1/payouts:stats", ["v1", "payouts"], [], "stats"],
    ["/v1/{name=wallets/*}", ["v1", "wallets", "*"], [["name", 1, 3]], undefined],
    ["/v1/{name=files/**}", ["v1", "files", "**"], [["name", 1, 3]], undefined],
    ["/v1/*/x", ["v1", "*", "x"], [], undefined],
    ["/v1/{a.b_c}/y:do", ["v1", "*", "y"], [["a.b_c", 1, 2]], "do"],
  ])("parses %s", (source, segments, variables, verb) => {
    const t = parsePathTemplate(source);
    const shown = t.segments.map((s) =>
      s.kind === "literal" ? s.value : s.kind === "wildcard" ? "*" : "**",
    );
    expect(shown).toEqual(segments);
    expect(t.variables.map((v) => [v.fieldPath.join("."), v.start, v.end])).toEqual(variables);
    expect(t.verb).toBe(verb);
  });

  it.each([
    ["v1/payouts", "must start with /"],
    ["/v1/{id", "unbalanced"],
    ["/v1/{a={b}}", "nested"],
    ["/v1/**/x", "** must be the last"],
    ["/v1/{1x}", "bad field path"],
    ["/v1/pay outs", "bad segment"],
    ["/v1/x:", "bad verb"],
  ])("rejects %s (%s)", (source, why) => {
    expect(() => parsePathTemplate(source)).toThrow(why);
  });
});

describe("bindVariables", () => {
  it("joins the segments a variable covers, and all that a trailing ** swallowed", () => {
    const t = parsePathTemplate("/v1/{name=wallets/*}/{rest=**}");
    const bound = bindVariables(t, ["v1", "wallets", "w1", "a", "b", "c"]);
    expect(Object.fromEntries(bound)).toEqual({ name: "wallets/w1", rest: "a/b/c" });
  });
});
