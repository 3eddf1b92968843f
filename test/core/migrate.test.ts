import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { bundledMigrations, migrate } from "../../src/core/db/migrate.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(false);
});
afterAll(async () => {
  await db?.drop();
});

describe("migrate", () => {
  it("applies every migration once, even when replicas start together", async () => {
    const runs = await Promise.all([migrate(db.pool), migrate(db.pool), migrate(db.pool)]);
    const applied = runs.flat().sort((a, b) => a - b);
    expect(applied).toEqual(bundledMigrations().map((m) => m.version));
    expect(await migrate(db.pool)).toEqual([]);
  });

  it("refuses to run when an applied migration was edited", async () => {
    const edited = bundledMigrations().map((m, i) =>
      i === 0 ? { ...m, checksum: "0".repeat(64) } : m,
    );
    await expect(migrate(db.pool, edited)).rejects.toThrow(/changed after it was applied/);
  });

  it("makes the audit log append-only", async () => {
    await db.pool.query(
      sql.unsafe`INSERT INTO audit_log (seq, actor, action, subject, prev_hash, hash) VALUES (1, 'a', 'b', 'c', 'x', 'y')`,
    );
    await expect(db.pool.query(sql.unsafe`UPDATE audit_log SET actor = 'z'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(db.pool.query(sql.unsafe`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
    const count = await db.pool.oneFirst(
      sql.type(z.object({ n: z.bigint() }))`SELECT count(*) AS n FROM audit_log`,
    );
    expect(count).toBe(1n);
  });
});

describe("splitStatements", () => {
  it("splits at top-level semicolons only", async () => {
    const { splitStatements } = await import("../../src/core/db/migrate.js");
    const text = [
      "-- a comment; with a semicolon",
      "CREATE TABLE a (x text DEFAULT 'a;b');",
      "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'x;y'; END; $$;",
      "INSERT INTO a VALUES ('it''s');",
      "-- trailing comment",
    ].join("\n");
    const parts = splitStatements(text);
    expect(parts).toHaveLength(3);
    expect(parts[1]).toContain("END; $$");
    expect(parts[2]).toBe("INSERT INTO a VALUES ('it''s')");
  });
});
