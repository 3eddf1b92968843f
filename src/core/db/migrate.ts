import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { type DatabasePool, sql } from "slonik";
import { z } from "zod";

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);
// Arbitrary constant: the advisory lock every replica takes before migrating.
const MIGRATION_LOCK = 7_242_001;

/** A migration file: NNN_name.sql, applied in order, never edited once landed. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** The migrations shipped with this build, in order. */
export function bundledMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const text = readFileSync(new URL(file, MIGRATIONS_DIR), "utf8");
      return {
        version: Number(file.slice(0, 3)),
        name: file.slice(4, -4),
        sql: text,
        checksum: createHash("sha256").update(text).digest("hex"),
      };
    });
}

/**
 * Applies pending migrations, each in its own transaction, under an advisory lock so that
 * replicas starting together do not race. Refuses to run when an applied migration's file has
 * changed. Returns the versions it applied.
 */
export async function migrate(
  pool: DatabasePool,
  migrations = bundledMigrations(),
): Promise<number[]> {
  return pool.connect(async (conn) => {
    await conn.query(sql.unsafe`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    try {
      await conn.query(sql.unsafe`
        CREATE TABLE IF NOT EXISTS schema_migrations (
          version integer PRIMARY KEY,
          name text NOT NULL,
          checksum text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
      const applied = await conn.any(
        sql.type(
          z.object({ version: z.number(), checksum: z.string() }),
        )`SELECT version, checksum FROM schema_migrations`,
      );
      const done = new Map(applied.map((r) => [r.version, r.checksum]));
      const ran: number[] = [];
      for (const m of migrations) {
        const checksum = done.get(m.version);
        if (checksum !== undefined) {
          if (checksum !== m.checksum)
            throw new Error(`migration ${m.version}_${m.name} was changed after it was applied`);
          continue;
        }
        await conn.transaction(async (tx) => {
          for (const statement of splitStatements(m.sql)) await tx.query(rawStatement(statement));
          await tx.query(
            sql.unsafe`INSERT INTO schema_migrations (version, name, checksum) VALUES (${m.version}, ${m.name}, ${m.checksum})`,
          );
        });
        ran.push(m.version);
      }
      return ran;
    } finally {
      await conn.query(sql.unsafe`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
    }
  });
}

/**
 * One statement of a migration file as a query. slonik only builds queries from template
 * literals (frozen strings arrays); the text is our own file, never input.
 */
function rawStatement(text: string) {
  const strings = Object.freeze(
    Object.assign([text], { raw: Object.freeze([text]) }),
  ) as unknown as TemplateStringsArray;
  return sql.unsafe(strings);
}

/**
 * Splits a migration file into statements at top-level semicolons, skipping those inside
 * quotes, dollar-quoted bodies ($$ … $$) and comments. slonik runs one statement per query.
 */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "-" && text[i + 1] === "-") {
      i = text.indexOf("\n", i);
      if (i < 0) break;
    } else if (c === "'") {
      i = text.indexOf("'", i + 1);
      if (i < 0) throw new Error("unterminated string in migration");
    } else if (c === "$") {
      const tag = /^\$[A-Za-z_]*\$/.exec(text.slice(i))?.[0];
      if (tag) {
        const end = text.indexOf(tag, i + tag.length);
        if (end < 0) throw new Error("unterminated dollar quote in migration");
        i = end + tag.length - 1;
      }
    } else if (c === ";") {
      out.push(text.slice(start, i));
      start = i + 1;
    }
    i++;
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter((s) => s.replace(/--[^\n]*/g, "").trim() !== "");
}
