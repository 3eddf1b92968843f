import { AppError } from "../../shared/errors.js";

/**
 * google.api.http path templates:
 *   Template = "/" Segments [ Verb ] ;  Segments = Segment { "/" Segment } ;
 *   Segment  = "*" | "**" | LITERAL | Variable ;  Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *   Verb     = ":" LITERAL ;
 * Written by hand: no maintained npm package parses this grammar (it is grpc-gateway's, in Go).
 */

/** One segment of a parsed template. */
export type Segment =
  | { kind: "literal"; value: string }
  | { kind: "wildcard" }
  | { kind: "deepWildcard" };

/** A variable bound to the segments [start, end) of the template. */
export interface Variable {
  fieldPath: string[];
  start: number;
  end: number;
}

/** A parsed path template. */
export interface PathTemplate {
  source: string;
  segments: Segment[];
  variables: Variable[];
  verb: string | undefined;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LITERAL = /^[A-Za-z0-9._~!$&'()+,;=@-]+$/;

/** Parses a template; throws AppError request.invalid (a proto author's mistake) when malformed. */
export function parsePathTemplate(source: string): PathTemplate {
  if (!source.startsWith("/")) throw bad(source, "must start with /");
  const { body, verb } = splitVerb(source);
  const segments: Segment[] = [];
  const variables: Variable[] = [];
  for (const part of splitTopLevel(body.slice(1), source)) {
    if (part.startsWith("{")) {
      if (!part.endsWith("}")) throw bad(source, `unclosed variable ${part}`);
      variables.push(parseVariable(part.slice(1, -1), segments, source));
    } else {
      segments.push(parseSegment(part, source));
    }
  }
  checkDeepWildcardLast(segments, source);
  return { source, segments, variables, verb };
}

function splitVerb(source: string): { body: string; verb: string | undefined } {
  // The verb follows the last ':' that is outside braces.
  let depth = 0;
  for (let i = source.length - 1; i >= 0; i--) {
    const c = source[i];
    if (c === "}") depth++;
    else if (c === "{") depth--;
    else if (c === "/" && depth === 0) break;
    else if (c === ":" && depth === 0) {
      const verb = source.slice(i + 1);
      if (!LITERAL.test(verb)) throw bad(source, `bad verb ${verb}`);
      return { body: source.slice(0, i), verb };
    }
  }
  return { body: source, verb: undefined };
}

function splitTopLevel(text: string, source: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const c of text) {
    if (c === "{") depth++;
    if (c === "}") depth--;
    if (depth < 0 || depth > 1) throw bad(source, "unbalanced or nested braces");
    if (c === "/" && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  if (depth !== 0) throw bad(source, "unbalanced braces");
  parts.push(current);
  return parts;
}

function parseSegment(part: string, source: string): Segment {
  if (part === "*") return { kind: "wildcard" };
  if (part === "**") return { kind: "deepWildcard" };
  if (!LITERAL.test(part)) throw bad(source, `bad segment "${part}"`);
  return { kind: "literal", value: part };
}

function parseVariable(inner: string, segments: Segment[], source: string): Variable {
  const eq = inner.indexOf("=");
  const fieldPath = (eq < 0 ? inner : inner.slice(0, eq)).split(".");
  if (!fieldPath.every((p) => IDENT.test(p))) throw bad(source, `bad field path ${inner}`);
  const start = segments.length;
  const pattern = eq < 0 ? ["*"] : inner.slice(eq + 1).split("/");
  for (const part of pattern) {
    if (part.includes("{")) throw bad(source, "nested variable");
    segments.push(parseSegment(part, source));
  }
  return { fieldPath, start, end: segments.length };
}

function checkDeepWildcardLast(segments: Segment[], source: string): void {
  const i = segments.findIndex((s) => s.kind === "deepWildcard");
  if (i >= 0 && i !== segments.length - 1) throw bad(source, "** must be the last segment");
}

function bad(source: string, why: string): AppError {
  return new AppError("request.invalid", `invalid path template ${source}: ${why}`, {
    metadata: { field: "google.api.http" },
  });
}

/** The values of a template's variables from the matched (decoded) path segments. */
export function bindVariables(
  template: PathTemplate,
  segments: readonly string[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of template.variables) {
    // A trailing ** reaches to the end of the path, however many segments it matched.
    const last = template.segments[v.end - 1]?.kind === "deepWildcard" ? segments.length : v.end;
    out.set(v.fieldPath.join("."), segments.slice(v.start, last).join("/"));
  }
  return out;
}
