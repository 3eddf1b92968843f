import { randomBytes } from "node:crypto";
import { createPool, type DatabasePool, sql } from "slonik";
import { migrate } from "../../src/core/db/migrate.js";
import { openDatabase } from "../../src/core/db/pool.js";

/** The server tests use: each test file creates (and drops) its own database there. */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  url: string;
  pool: DatabasePool;
  drop(): Promise<void>;
}

/**
 * A fresh database for one test file, with the real migrations applied (unless `migrated` is
 * false). Dropped by drop(), which tests call in afterAll.
 */
export async function createTestDatabase(migrated = true): Promise<TestDatabase> {
  const name = `tronpay_t_${randomBytes(6).toString("hex")}`;
  const admin = await createPool(TEST_DATABASE_URL, { maximumPoolSize: 1 });
  await admin.query(sql.unsafe`CREATE DATABASE ${sql.identifier([name])}`);
  const url = withDatabase(TEST_DATABASE_URL, name);
  const pool = await openDatabase(url, 10);
  if (migrated) await migrate(pool);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      await admin.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([name])} WITH (FORCE)`);
      await admin.end();
    },
  };
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
