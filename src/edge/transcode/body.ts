import type { DescMessage } from "@bufbuild/protobuf";
import { parse as parseLossless } from "lossless-json";
import { AppError } from "../../shared/errors.js";
import { findField, type JsonObject } from "./query.js";

/** How a rule maps the HTTP body: the whole request, one field of it, or nothing. */
export type BodyRule = "*" | "" | string;

/** True for the JSON media types a REST body may have (any charset parameter is ignored). */
export function isJsonContentType(contentType: string | undefined): boolean {
  const media = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  return media === "application/json" || media === "application/*+json";
}

/**
 * The request's JSON form from the body, per the rule: `*` → the body is the request (an
 * object); a field name → the body is that field's JSON value; "" → there must be no body.
 * Malformed JSON and a body where none is taken are request.invalid; fields are checked
 * later, by fromJson.
 */
export function bodyToJson(schema: DescMessage, rule: BodyRule, text: string): JsonObject {
  const empty = text.trim() === "";
  if (rule === "") {
    if (!empty) throw invalid("body", "this route takes no request body");
    return {};
  }
  if (empty) return {};
  const value = parseJson(text);
  if (rule === "*") {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw invalid("body", "the request body must be a JSON object");
    }
    return value as JsonObject;
  }
  const field = findField(schema, rule);
  if (!field) throw new Error(`body rule names no field: ${schema.typeName}.${rule}`);
  return { [field.jsonName]: value };
}

/**
 * JSON.parse, and on failure where it failed (position, line, column). V8's messages do not
 * always say, so lossless-json re-parses the failed text only to locate the error.
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const at = failurePosition(text);
    const metadata: Record<string, string> = { field: "body" };
    let where = "";
    if (at !== undefined) {
      const before = text.slice(0, at);
      metadata.position = String(at);
      metadata.line = String(before.split("\n").length);
      metadata.column = String(at - before.lastIndexOf("\n"));
      where = ` at line ${metadata.line}, column ${metadata.column}`;
    }
    throw new AppError("request.invalid", `malformed JSON body${where}`, { metadata });
  }
}

function failurePosition(text: string): number | undefined {
  try {
    parseLossless(text);
  } catch (err) {
    const at = /position (\d+)/.exec(err instanceof Error ? err.message : "")?.[1];
    return at === undefined ? undefined : Number(at);
  }
  return undefined;
}

function invalid(field: string, message: string): AppError {
  return new AppError("request.invalid", message, { metadata: { field } });
}
