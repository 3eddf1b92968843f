import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { AppError } from "../../shared/errors.js";

/**
 * Path variables and query parameters go into the request's JSON form by field path, so that
 * protobuf-es's fromJson does every conversion and check in one place. Here only the shape is
 * built: repeated fields become arrays, `a.b` nests, and strings become the JSON type fromJson
 * expects for the field (booleans, 32-bit numbers, enum numbers); 64-bit integers, enum names
 * and Timestamps stay strings, as proto3 JSON wants them.
 */

export type JsonObject = { [key: string]: unknown };

/** Well-known message types whose JSON form is a single string. */
const STRING_MESSAGES = new Set([
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
]);

/** The field of a message named by its proto name or its JSON name. */
export function findField(schema: DescMessage, name: string): DescField | undefined {
  return schema.fields.find((f) => f.name === name || f.jsonName === name);
}

/**
 * Sets `value` at a dotted field path in `json` (the request's JSON form). A repeated field
 * appends; a path variable overrides what the body said. Throws request.invalid naming the
 * parameter when the path names no field or a field that cannot take a string.
 */
export function setFieldPath(
  json: JsonObject,
  schema: DescMessage,
  path: readonly string[],
  value: string,
  mode: "append" | "override" = "append",
): void {
  const param = path.join(".");
  let target = json;
  let message = schema;
  for (const [i, name] of path.entries()) {
    const field = findField(message, name);
    if (!field) throw invalid(param, `unknown parameter ${param}`);
    if (i < path.length - 1) {
      if (field.fieldKind !== "message" || STRING_MESSAGES.has(field.message.typeName)) {
        throw invalid(param, `${param}: ${name} has no fields`);
      }
      const inner = target[field.jsonName];
      const next: JsonObject = isObject(inner) ? inner : {};
      target[field.jsonName] = next;
      target = next;
      message = field.message;
      continue;
    }
    assign(target, field, convert(field, value, param), mode);
  }
}

/** Every query parameter into `json` by its (proto or JSON) field path; repeats append. */
export function applyQuery(json: JsonObject, schema: DescMessage, query: URLSearchParams): void {
  for (const [name, value] of query) {
    setFieldPath(json, schema, name.split("."), value, "append");
  }
}

function assign(target: JsonObject, field: DescField, value: unknown, mode: string): void {
  if (field.fieldKind === "list") {
    const list = Array.isArray(target[field.jsonName]) ? (target[field.jsonName] as unknown[]) : [];
    target[field.jsonName] = mode === "override" ? [value] : [...list, value];
  } else {
    target[field.jsonName] = value;
  }
}

function convert(field: DescField, value: string, param: string): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return scalar(field.scalar, value);
    case "enum":
      return /^-?\d+$/.test(value) ? Number(value) : value;
    case "list":
      if (field.listKind === "scalar") return scalar(field.scalar, value);
      if (field.listKind === "enum") return /^-?\d+$/.test(value) ? Number(value) : value;
      if (STRING_MESSAGES.has(field.message.typeName)) return value;
      throw invalid(param, `${param} is a list of messages and cannot be set from the URL`);
    case "message":
      if (STRING_MESSAGES.has(field.message.typeName)) return value;
      throw invalid(param, `${param} is a message; set its fields (${param}.x=…)`);
    case "map":
      throw invalid(param, `${param} is a map and cannot be set from the URL`);
  }
}

function scalar(type: ScalarType, value: string): unknown {
  switch (type) {
    case ScalarType.BOOL:
      // Anything else stays a string, and fromJson rejects it with the field's name.
      return value === "true" || value === "1"
        ? true
        : value === "false" || value === "0"
          ? false
          : value;
    case ScalarType.INT32:
    case ScalarType.UINT32:
    case ScalarType.SINT32:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return value !== "" && Number.isFinite(Number(value)) ? Number(value) : value;
    default:
      return value;
  }
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function invalid(field: string, message: string): AppError {
  return new AppError("request.invalid", message, { metadata: { field } });
}
