import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { roleProtoName, rolesOf } from "../shared/api.js";
import { type Schema, SchemaRegistry } from "./openapi-schema.js";
import type { RestRoute } from "./transcode/rules.js";

/** The OpenAPI 3.1 document of the REST routes, generated from the same descriptors. */
export type OpenApiDocument = Record<string, unknown> & {
  paths: Record<string, Record<string, Operation>>;
};
type Operation = Record<string, unknown>;

const STATUS_SCHEMA: Schema = {
  type: "object",
  description:
    "google.rpc.Status. details holds every error detail as google.protobuf.Any JSON: first a " +
    "google.rpc.ErrorInfo with our stable reason (docs/errors.md), then any others the error " +
    "carries (google.rpc.BadRequest, google.rpc.RetryInfo, tronpay.v1.PayoutBatchItemErrors, …).",
  properties: {
    code: { type: "integer", format: "int32", description: "gRPC / Connect code number" },
    message: { type: "string" },
    details: {
      type: "array",
      items: {
        type: "object",
        properties: {
          "@type": {
            type: "string",
            description: "type.googleapis.com/<message name>, e.g. google.rpc.ErrorInfo",
          },
          reason: { type: "string", description: "ErrorInfo: stable reason, see docs/errors.md" },
          domain: { type: "string", description: 'ErrorInfo: always "tronpay"' },
          metadata: {
            type: "object",
            additionalProperties: { type: "string" },
            description: "ErrorInfo: safe facts, e.g. field, required, retry_after_ms",
          },
        },
        required: ["@type"],
        additionalProperties: true,
      },
    },
  },
  required: ["code", "message", "details"],
};

/** RateLimit-* (draft-ietf-httpapi-ratelimit-headers-06) and Retry-After, documented once. */
const RATE_HEADERS: Record<string, Schema> = {
  "RateLimit-Limit": {
    description: "Calls allowed per window for this principal and operation.",
    schema: { type: "integer" },
  },
  "RateLimit-Remaining": {
    description: "Calls left in the current window.",
    schema: { type: "integer" },
  },
  "RateLimit-Reset": {
    description: "Seconds until the window ends.",
    schema: { type: "integer" },
  },
};
const RETRY_AFTER: Schema = {
  description: "Seconds to wait before retrying.",
  schema: { type: "integer" },
};

const ERROR_STATUSES: Record<string, string> = {
  "400": "The request is invalid (reason request.invalid and others).",
  "401": "No valid credentials (auth.unauthenticated).",
  "403": "The caller's roles do not allow this operation (auth.permission_denied).",
  "404": "Not found.",
  "429": "Rate limited (auth.rate_limited).",
  "503": "Unavailable: the edge is overloaded or core cannot be reached.",
  default: "Any other error, as a google.rpc.Status.",
};

/** Builds the document; `version` is the service's version string. */
export function buildOpenApi(routes: readonly RestRoute[], version: string): OpenApiDocument {
  const registry = new SchemaRegistry();
  const paths: Record<string, Record<string, Operation>> = {};
  const seen = new Map<string, number>();
  for (const route of routes) {
    const path = openApiPath(route);
    paths[path] ??= {};
    const base = `${route.method.parent.name}_${route.method.name}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    const operationId = n === 0 ? base : `${base}_${n + 1}`;
    (paths[path] as Record<string, Operation>)[route.httpMethod.toLowerCase()] = operation(
      route,
      registry,
      operationId,
    );
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "tronpay API",
      version,
      description: "Exactly-once USDT and TRX payouts on TRON. Generated from the protos.",
    },
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }, { apiKeyHeader: [] }],
    tags: [...new Set(routes.map((r) => r.method.parent.name))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { ...registry.components, "google.rpc.Status": STATUS_SCHEMA },
      responses: {
        Error: {
          description: "An error as google.rpc.Status JSON.",
          content: {
            "application/json": { schema: { $ref: "#/components/schemas/google.rpc.Status" } },
          },
        },
      },
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description: "API key: Authorization: Bearer tp_…",
        },
        apiKeyHeader: { type: "apiKey", in: "header", name: "x-api-key", description: "API key" },
      },
    },
  };
}

/** /v1/wallets/{wallet_id}:stake: variables by field path, patterns dropped. */
export function openApiPath(route: RestRoute): string {
  const { template } = route;
  const parts: string[] = [];
  let i = 0;
  while (i < template.segments.length) {
    const variable = template.variables.find((v) => v.start === i);
    if (variable) {
      parts.push(`{${variable.fieldPath.join(".")}}`);
      i = variable.end;
      continue;
    }
    const seg = template.segments[i];
    parts.push(seg?.kind === "literal" ? seg.value : seg?.kind === "wildcard" ? "*" : "**");
    i++;
  }
  return `/${parts.join("/")}${template.verb ? `:${template.verb}` : ""}`;
}

function operation(route: RestRoute, registry: SchemaRegistry, operationId: string): Operation {
  const { method } = route;
  const roles = rolesOf(method).map(roleProtoName);
  const pathFields = new Set(route.template.variables.map((v) => v.fieldPath.join(".")));
  const op: Operation = {
    operationId,
    tags: [method.parent.name],
    summary: `${method.parent.name}.${method.name}`,
    description: `RPC ${method.parent.typeName}/${method.name}. Roles: ${roles.join(", ")}.`,
    "x-tronpay-roles": roles,
    parameters: [
      ...pathParameters(route, registry),
      ...(route.body === "*"
        ? []
        : queryParameters(method.input, "", new Set([...pathFields, route.body]), registry, 0)),
    ],
    responses: responses(route, registry),
  };
  if (route.body !== "") op.requestBody = requestBody(route, registry, pathFields);
  return op;
}

function pathParameters(route: RestRoute, registry: SchemaRegistry): Schema[] {
  return route.template.variables.map((v) => ({
    name: v.fieldPath.join("."),
    in: "path",
    required: true,
    schema: fieldAt(route.method.input, v.fieldPath, registry) ?? { type: "string" },
  }));
}

/** Query parameters: every scalar, enum or string-valued field reachable, by proto path. */
function queryParameters(
  message: DescMessage,
  prefix: string,
  skip: ReadonlySet<string>,
  registry: SchemaRegistry,
  depth: number,
): Schema[] {
  const out: Schema[] = [];
  for (const field of message.fields) {
    const name = `${prefix}${field.name}`;
    if (skip.has(name) || field.fieldKind === "map") continue;
    const nested = field.fieldKind === "message" && !isStringWkt(field.message.typeName);
    if (nested) {
      if (depth < 3)
        out.push(...queryParameters(field.message, `${name}.`, skip, registry, depth + 1));
      continue;
    }
    if (field.fieldKind === "list" && field.listKind === "message") continue;
    const schema = registry.fieldSchema(field);
    out.push({
      name,
      in: "query",
      required: false,
      schema,
      ...(field.fieldKind === "list" ? { explode: true } : {}),
    });
  }
  return out;
}

function requestBody(route: RestRoute, registry: SchemaRegistry, pathFields: ReadonlySet<string>) {
  const input = route.method.input;
  const schema =
    route.body === "*"
      ? registry.messageSchema(input, pathFields)
      : (fieldAt(input, [route.body], registry) ?? {});
  return { required: route.body !== "*", content: { "application/json": { schema } } };
}

function responses(route: RestRoute, registry: SchemaRegistry): Record<string, unknown> {
  const output = route.method.output;
  const body =
    route.responseBody === ""
      ? registry.messageRef(output)
      : (fieldAt(output, [route.responseBody], registry) ?? {});
  const errors = Object.fromEntries(
    Object.entries(ERROR_STATUSES).map(([status, description]) => [
      status,
      {
        description,
        ...(status === "429" ? { headers: { "Retry-After": RETRY_AFTER, ...RATE_HEADERS } } : {}),
        content: {
          "application/json": { schema: { $ref: "#/components/schemas/google.rpc.Status" } },
        },
      },
    ]),
  );
  if (route.method.methodKind === "server_streaming") {
    const line = {
      type: "object",
      description: "One stream item: result, or error after the stream has started.",
      properties: { result: body, error: { $ref: "#/components/schemas/google.rpc.Status" } },
    };
    return {
      "200": {
        description:
          "A stream: newline-delimited JSON, or Server-Sent Events with Accept: text/event-stream.",
        headers: RATE_HEADERS,
        content: {
          "application/x-ndjson": { schema: line },
          "text/event-stream": { schema: { type: "string" } },
        },
      },
      ...errors,
    };
  }
  return {
    "200": {
      description: "OK",
      headers: RATE_HEADERS,
      content: { "application/json": { schema: body } },
    },
    ...errors,
  };
}

function fieldAt(
  message: DescMessage,
  path: readonly string[],
  registry: SchemaRegistry,
): Schema | undefined {
  let at: DescMessage = message;
  let field: DescField | undefined;
  for (const name of path) {
    field = at.fields.find((f) => f.name === name);
    if (!field) return undefined;
    if (field.fieldKind === "message") at = field.message;
  }
  return field ? registry.fieldSchema(field) : undefined;
}

function isStringWkt(typeName: string): boolean {
  return (
    typeName.startsWith("google.protobuf.") &&
    !["google.protobuf.Struct", "google.protobuf.Empty", "google.protobuf.Any"].includes(typeName)
  );
}
