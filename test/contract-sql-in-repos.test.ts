import { readdirSync, readFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * SQL lives in repos: under src/core, slonik's `sql` tag may appear only in a room's repo
 * (repo.ts, *-repo.ts, queries.ts) and in src/core/db/ (pool, locks, migrations). Flows and
 * handlers call named repo functions instead, so every table's queries and its one row
 * schema sit in one place.
 */

const CORE = new URL("../src/core/", import.meta.url).pathname;

/** Files that still hold SQL, each with why; the entry must go once the reason is gone. */
const ALLOWED: Record<string, string> = {
  "kernel/outbox.ts": "moved by H3 (typed events own emitEvent and the outbox insert)",
  "payouts/retry.ts": "moved by H4 (retry's state writes go through transition())",
  "payouts/limits.ts": "moved by H4 (one checkDailyLimit for create and retry)",
  "payouts/flows.ts": "moved by H4 (approve and cancel go through transition())",
  "operations/handlers.ts": "moved by H2 (the operations row schema and its kind column)",
};

/** A use of the tag (sql`…`, sql.type(…)`…`, sql.fragment, …) or an import of its value. */
const SQL_USE =
  /\bsql(\.[A-Za-z]+)?\s*[(`]|import\s*\{[^}]*(?<!type\s)\bsql\b[^}]*\}\s*from\s*"slonik"/;

function isRepo(path: string): boolean {
  const name = basename(path);
  return name === "repo.ts" || name.endsWith("-repo.ts") || name === "queries.ts";
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** The src/core files (relative) that use the sql tag outside repos and src/core/db/. */
function sqlOutsideRepos(): string[] {
  return sourceFiles(CORE)
    .map((path) => relative(CORE, path))
    .filter((rel) => !rel.startsWith("db/") && !isRepo(rel))
    .filter((rel) => SQL_USE.test(readFileSync(join(CORE, rel), "utf8")))
    .sort();
}

describe("SQL in src/core", () => {
  it("detects the tag in its forms and ignores type-only imports", () => {
    expect(SQL_USE.test("await db.query(sql.unsafe`SELECT 1`)")).toBe(true);
    expect(SQL_USE.test("db.one(sql.type(Row)`SELECT 1`)")).toBe(true);
    expect(SQL_USE.test("const f = sql`x`")).toBe(true);
    expect(SQL_USE.test('import { type DatabasePool, sql } from "slonik";')).toBe(true);
    expect(SQL_USE.test('import { type DatabasePool, type SqlTag } from "slonik";')).toBe(false);
    expect(SQL_USE.test("// the sql of a migration")).toBe(false);
  });

  it("appears only in repos, src/core/db/ and the allowlist", () => {
    const outside = sqlOutsideRepos().filter((rel) => !(rel in ALLOWED));
    expect(outside, "move these queries into the room's repo.ts or a *-repo.ts").toEqual([]);
  });

  it("has no stale allowlist entry (each one still exists and still holds SQL)", () => {
    const found = new Set(sqlOutsideRepos());
    const stale = Object.keys(ALLOWED).filter((rel) => !found.has(rel));
    expect(stale, "remove these from ALLOWED").toEqual([]);
  });
});
