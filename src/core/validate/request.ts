import {
  type DescEnum,
  type DescField,
  type DescMessage,
  getOption,
  hasOption,
  type Message,
  ScalarType,
} from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { max_length } from "../../gen/tronpay/v1/options_pb.js";
import { AppError } from "../../shared/errors.js";

/**
 * The checks every request passes before its handler runs (and so before any database work),
 * read from the request's own descriptor: every string is at most its field's `max_length`
 * option (DEFAULT_MAX_LENGTH without one) and holds no NUL character (PostgreSQL text cannot
 * store one), and every enum value is one the enum defines (proto3 enums are open: a client can
 * send any number). Nested messages, lists, maps and oneofs are walked; field paths read like
 * `items[3].memo`.
 */

/** The most a request string may hold when its field declares no max_length. */
export const DEFAULT_MAX_LENGTH = 4096;

/** Refuses more violations than this in one answer (a 1,000-item batch could list thousands). */
const MAX_LISTED = 100;

interface Violation {
  field: string;
  description: string;
}

/**
 * Throws request.invalid for the first violation, with every violation (up to 100) in a
 * google.rpc.BadRequest; returns when the request is clean.
 */
export function checkRequest(desc: DescMessage, message: Message): void {
  const found: Violation[] = [];
  walk(reflect(desc, message), "", found);
  if (found.length === 0) return;
  const first = found[0] as Violation;
  throw new AppError("request.invalid", first.description, {
    metadata: { field: first.field },
    details: [
      {
        desc: BadRequestSchema,
        value: {
          fieldViolations: found.map((v) => ({
            field: v.field,
            description: v.description,
            reason: "request.invalid",
          })),
        },
      },
    ],
  });
}

/** The limit a string field declares (or the default). */
export function maxLengthOf(field: DescField): number {
  return hasOption(field, max_length) ? getOption(field, max_length) : DEFAULT_MAX_LENGTH;
}

/**
 * Checks one text value against a limit: undefined when it passes, else why not. The one rule
 * for text, also for values checked by hand (e.g. map keys with their own limit).
 */
export function textProblem(value: string, field: string, max: number): string | undefined {
  if (value.length > max) return `${field} must be at most ${max} characters`;
  if (value.includes("\u0000")) return `${field} must not contain NUL characters`;
  return undefined;
}

function walk(m: ReflectMessage, prefix: string, out: Violation[]): void {
  for (const field of m.fields) {
    if (out.length >= MAX_LISTED) return;
    if (!m.isSet(field)) continue;
    const path = `${prefix}${field.name}`;
    switch (field.fieldKind) {
      case "scalar":
        if (field.scalar === ScalarType.STRING) text(m.get(field), path, field, out);
        break;
      case "enum":
        enumValue(field.enum, m.get(field), path, out);
        break;
      case "message":
        walk(m.get(field), `${path}.`, out);
        break;
      case "list": {
        let i = 0;
        for (const v of m.get(field)) {
          const at = `${path}[${i++}]`;
          if (field.listKind === "message") walk(v as ReflectMessage, `${at}.`, out);
          else if (field.listKind === "enum") enumValue(field.enum, v, at, out);
          else if (field.scalar === ScalarType.STRING) text(v, at, field, out);
        }
        break;
      }
      case "map":
        for (const [k, v] of m.get(field)) {
          const at = `${path}[${String(k)}]`;
          if (typeof k === "string") text(k, `${path} key`, field, out);
          if (field.mapKind === "message") walk(v as ReflectMessage, `${at}.`, out);
          else if (field.mapKind === "enum") enumValue(field.enum, v, at, out);
          else if (field.scalar === ScalarType.STRING) text(v, at, field, out);
        }
        break;
    }
  }
}

function text(value: unknown, path: string, field: DescField, out: Violation[]): void {
  if (typeof value !== "string") return;
  const problem = textProblem(value, path, maxLengthOf(field));
  if (problem) out.push({ field: path, description: problem });
}

function enumValue(desc: DescEnum, value: unknown, path: string, out: Violation[]): void {
  if (typeof value === "number" && desc.values.some((v) => v.number === value)) return;
  out.push({ field: path, description: `${path} is not a known ${desc.name} value` });
}
