import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "slonik";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/core/db/pool.js";
import { PGLITE_POOL_SIZE, startEmbeddedPostgres } from "../../src/launcher/postgres.js";

const dir = mkdtempSync(join(tmpdir(), "tp-pgtemplate-"));
const template = join(dir, "cache", "initdb.tar");

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `work` on the embedded database in `dataDir`, then stops it. */
async function withDatabase<T>(dataDir: string, work: (url: string) => Promise<T>): Promise<T> {
  const db = await startEmbeddedPostgres(dataDir, 0, template);
  try {
    return await work(db.url);
  } finally {
    await db.stop();
  }
}

async function query<T>(url: string, run: (p: Awaited<ReturnType<typeof openDatabase>>) => T) {
  const pool = await openDatabase(url, PGLITE_POOL_SIZE);
  try {
    return await run(pool);
  } finally {
    await pool.end();
  }
}

describe("the embedded database's initdb template", () => {
  it("is made by the first new database before any client, and new databases start from it, keeping their data", async () => {
    expect(existsSync(template)).toBe(false);
    await withDatabase(join(dir, "first"), (url) =>
      query(url, (p) => p.query(sql.unsafe`CREATE TABLE first_only (a int)`)),
    );
    expect(statSync(template).size).toBeGreaterThan(0);
    const made = statSync(template).mtimeMs;

    const second = join(dir, "second");
    const tables = await withDatabase(second, (url) =>
      query(url, async (p) => {
        await p.query(sql.unsafe`CREATE TABLE kept (a int)`);
        await p.query(sql.unsafe`INSERT INTO kept VALUES (42)`);
        return p.anyFirst(
          sql.unsafe`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
        );
      }),
    );
    // The template is initdb's result only: nothing the first database's client did.
    expect(tables).toEqual(["kept"]);
    expect(statSync(template).mtimeMs).toBe(made);

    const again = await withDatabase(second, (url) =>
      query(url, (p) => p.anyFirst(sql.unsafe`SELECT a FROM kept`)),
    );
    expect(again).toEqual([42]);
  }, 240_000);

  it("makes a new database again when its making was interrupted (the launcher died)", async () => {
    const broken = join(dir, "broken");
    mkdirSync(broken);
    writeFileSync(join(broken, "PG_VERSION"), "18\n");
    writeFileSync(join(broken, "half-written"), "");
    writeFileSync(`${broken}.initialising`, "");
    const tables = await withDatabase(broken, (url) =>
      query(url, async (p) => {
        await p.query(sql.unsafe`CREATE TABLE made (a int)`);
        return p.anyFirst(sql.unsafe`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
      }),
    );
    expect(tables).toEqual(["made"]);
    expect(existsSync(join(broken, "half-written"))).toBe(false);
    expect(existsSync(`${broken}.initialising`)).toBe(false);
    // Made once: the next start opens it as it is.
    const again = await withDatabase(broken, (url) =>
      query(url, (p) =>
        p.anyFirst(sql.unsafe`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`),
      ),
    );
    expect(again).toEqual(["made"]);
  }, 120_000);

  it("is what a new database is unpacked from (one made from a database with a table has it)", async () => {
    const source = await PGlite.create({ dataDir: join(dir, "first") });
    const marked = join(dir, "marked.tar");
    writeFileSync(marked, new Uint8Array(await (await source.dumpDataDir("none")).arrayBuffer()));
    await source.close();
    const db = await startEmbeddedPostgres(join(dir, "third"), 0, marked);
    try {
      const tables = await query(db.url, (p) =>
        p.anyFirst(sql.unsafe`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`),
      );
      expect(tables).toEqual(["first_only"]);
    } finally {
      await db.stop();
    }
  }, 120_000);
});
