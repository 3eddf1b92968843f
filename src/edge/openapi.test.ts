import { compileErrors, validate } from "@readme/openapi-parser";
import { describe, expect, it } from "vitest";
import { httpRuleOf, publicServices } from "../shared/api.js";
import { renderDocs } from "./docs.js";
import { buildOpenApi } from "./openapi.js";
import { restRoutesOf } from "./transcode/rules.js";

const doc = buildOpenApi(restRoutesOf(), "1.2.3");
type Json = Record<string, unknown>;
const schemas = (doc.components as { schemas: Record<string, Json> }).schemas;
const op = (path: string, method: string) =>
  (doc.paths[path] as Record<string, Json>)[method] as Json;

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
  });

  it("has one operation per public RPC with an http rule", () => {
    const ids = Object.values(doc.paths).flatMap((ops) =>
      Object.values(ops).map((o) => o.operationId),
    );
    const expected = publicServices.flatMap((s) =>
      s.methods.filter((m) => httpRuleOf(m)).map((m) => `${s.name}_${m.name}`),
    );
    expect(ids.sort()).toEqual(expected.sort());
  });

  it("describes path and query parameters by field path", () => {
    const get = op("/v1/payouts/{id}", "get");
    expect(get.parameters).toEqual([
      { name: "id", in: "path", required: true, schema: { type: "string" } },
    ]);
    const names = (op("/v1/payouts", "get").parameters as Json[]).map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining(["states", "page.page_size", "created.start_time"]),
    );
  });

  it("maps proto3 JSON types: enums as strings, int64 as strings, Timestamps as date-time, maps, oneofs", () => {
    expect(schemas["tronpay.v1.PayoutState"]).toMatchObject({
      type: "string",
      enum: expect.arrayContaining(["PAYOUT_STATE_QUEUED"]),
    });
    const create = schemas["tronpay.v1.Payout"] as { properties: Record<string, Json> };
    expect(create.properties.createdAt).toEqual({ type: "string", format: "date-time" });
    expect(schemas["tronpay.v1.NetworkCost"]).toMatchObject({
      properties: { bandwidthUsed: { type: "string", format: "int64" } },
    });
    const body = (op("/v1/payouts", "post").requestBody as Json).content as Record<
      string,
      { schema: Json }
    >;
    const schema = body["application/json"]?.schema as {
      properties: Record<string, Json>;
      allOf: Json[];
    };
    expect(schema.properties.metadata).toEqual({
      type: "object",
      additionalProperties: { type: "string" },
    });
    expect(schema.allOf[0]).toMatchObject({
      not: { anyOf: [{ required: ["recipientAddress", "payeeTag"] }] },
    });
  });

  it("names the roles of each operation and the bearer scheme", () => {
    const post = op("/v1/payouts", "post");
    expect(post["x-tronpay-roles"]).toEqual(
      expect.arrayContaining(["ROLE_ADMIN", "ROLE_OPERATOR"]),
    );
    expect(post.description).toContain("ROLE_OPERATOR");
    expect((doc.components as Json).securitySchemes).toMatchObject({
      bearerAuth: { type: "http", scheme: "bearer" },
    });
  });

  it("documents streams as NDJSON and SSE, errors as google.rpc.Status", () => {
    const watch = op("/v1/payout-batches/{id}:watch", "get").responses as Record<string, Json>;
    expect(Object.keys(watch["200"]?.content as Json)).toEqual([
      "application/x-ndjson",
      "text/event-stream",
    ]);
    expect(JSON.stringify(watch["403"])).toContain("#/components/schemas/google.rpc.Status");
  });

  it("documents the RateLimit-* headers on answers and Retry-After on 429", () => {
    const responses = op("/v1/payouts", "post").responses as Record<string, Json>;
    expect(Object.keys(responses["200"]?.headers as Json)).toEqual([
      "RateLimit-Limit",
      "RateLimit-Remaining",
      "RateLimit-Reset",
    ]);
    expect(Object.keys(responses["429"]?.headers as Json)).toContain("Retry-After");
  });
});

describe("the docs page", () => {
  const html = renderDocs(doc);
  it("is self-contained: no scripts and no external URLs", () => {
    expect(html).not.toMatch(/<script|<link|@import|url\(/i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).toContain("/v1/payouts/{id}:cancel");
    expect(html).toContain("ROLE_APPROVER");
  });

  it("escapes what it prints", () => {
    const evil = buildOpenApi([], "<script>alert(1)</script>");
    expect(renderDocs(evil)).not.toContain("<script>");
  });
});
