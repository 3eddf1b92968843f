import { describe, expect, it } from "vitest";
import { PayoutService } from "../../gen/tronpay/v1/payout_pb.js";
import { httpRuleOf, publicServices } from "../../shared/api.js";
import { parsePathTemplate } from "./path-template.js";
import { buildRouteTrie, restRoutesOf } from "./rules.js";
import { RouteTrie } from "./trie.js";

function trieOf(routes: [string, string][]): RouteTrie<string> {
  const trie = new RouteTrie<string>();
  for (const [method, path] of routes)
    trie.add(method, parsePathTemplate(path), `${method} ${path}`);
  return trie;
}

describe("RouteTrie precedence", () => {
  const trie = trieOf([
    ["GET", "/v1/items/special"],
    ["GET", "/v1/items/{id}"],
    ["GET", "/v1/items/{rest=**}"],
    ["GET", "/v1/items/{id}:watch"],
    ["GET", "/v1/items:stats"],
    ["POST", "/v1/items"],
    ["GET", "/v1/items"],
    ["DELETE", "/v1/items/{id}"],
  ]);

  it.each([
    ["GET", "/v1/items/special", "GET /v1/items/special"],
    ["GET", "/v1/items/abc", "GET /v1/items/{id}"],
    ["GET", "/v1/items/a/b/c", "GET /v1/items/{rest=**}"],
    ["GET", "/v1/items/abc:watch", "GET /v1/items/{id}:watch"],
    ["GET", "/v1/items:stats", "GET /v1/items:stats"],
    ["GET", "/v1/items", "GET /v1/items"],
    ["POST", "/v1/items", "POST /v1/items"],
    ["DELETE", "/v1/items/special", "DELETE /v1/items/{id}"],
    ["GET", "/v1/items/a%2Fb", "GET /v1/items/{id}"],
  ])("%s %s → %s (literal beats * beats **)", (method, path, expected) => {
    const m = trie.match(method, path);
    expect(m?.kind === "found" ? m.route : m).toBe(expected);
  });

  it("decodes matched segments", () => {
    const m = trie.match("GET", "/v1/items/a%2Fb");
    expect(m?.kind === "found" && m.segments).toEqual(["v1", "items", "a/b"]);
  });

  it.each([
    ["PUT", "/v1/items", ["GET", "POST"]],
    ["POST", "/v1/items/abc", ["DELETE", "GET"]],
  ])("answers %s %s with the allowed methods", (method, path, allow) => {
    expect(trie.match(method, path)).toEqual({ kind: "methodNotAllowed", allow });
  });

  it.each(["/v2/items", "/v1/other", "/v1/items:nothing", "/"])("does not find %s", (path) => {
    expect(trie.match("GET", path)).toEqual({ kind: "notFound" });
  });

  it("refuses a path that is not valid percent-encoding", () => {
    expect(trie.match("GET", "/v1/items/%E0%A4%A")).toBeUndefined();
  });

  it("refuses a duplicate route", () => {
    expect(() =>
      trieOf([
        ["GET", "/a/{x}"],
        ["GET", "/a/{y}"],
      ]),
    ).toThrow("duplicate");
  });
});

describe("routes from the descriptors", () => {
  it("binds every public RPC that has an http rule, and finds each by its own path", () => {
    const routes = restRoutesOf();
    const annotated = publicServices.flatMap((s) => s.methods.filter((m) => httpRuleOf(m)));
    expect(new Set(routes.map((r) => r.method))).toEqual(new Set(annotated));
    const trie = buildRouteTrie(routes);
    const m = trie.match("POST", "/v1/payouts/p_1:cancel");
    expect(m?.kind === "found" && m.route.method).toBe(PayoutService.method.cancelPayout);
  });
});
