import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, parse as parseYaml } from "yaml";

/** The repository root. */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** Reads a file under the repository root as text. */
export function readText(path: string): string {
  return readFileSync(join(ROOT, path), "utf8");
}

/** Parses one YAML document; YAML syntax errors throw. */
export function readYaml(path: string): unknown {
  // merge: compose files share settings through `<<: *anchor`.
  return parseYaml(readText(path), { prettyErrors: true, merge: true });
}

/** Parses every document of a multi-document YAML file; throws on the first error. */
export function readYamlDocuments(path: string): unknown[] {
  return parseAllDocuments(readText(path)).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]?.message}`);
    return doc.toJS();
  });
}

/** Every *.yaml file under a directory, recursively, relative to the repository root. */
export function yamlFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFilesUnder(path));
    else if (/\.ya?ml$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

/** A plain-object view for tests that walk parsed YAML. */
export type Tree = Record<string, unknown>;

/** `value` as an object, or a failure naming `what`. */
export function obj(value: unknown, what: string): Tree {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new Error(`${what} is not a mapping`);
  return value as Tree;
}
