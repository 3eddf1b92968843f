import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

/**
 * Session-level advisory locks: held by one connection until released (or until it closes),
 * so a job that runs on several replicas runs on one at a time. The keys are arbitrary
 * constants, one per job, declared next to the job.
 */

/** Takes lock `key` for this session if it is free; false when another session holds it. */
export async function tryAdvisoryLock(conn: CommonQueryMethods, key: number): Promise<boolean> {
  return conn.oneFirst(
    sql.type(z.object({ locked: z.boolean() }))`SELECT pg_try_advisory_lock(${key}) AS locked`,
  );
}

/** Waits for lock `key` and takes it for this session. */
export async function advisoryLock(conn: CommonQueryMethods, key: number): Promise<void> {
  await conn.query(sql.unsafe`SELECT pg_advisory_lock(${key})`);
}

/** Releases lock `key` taken by this session. */
export async function advisoryUnlock(conn: CommonQueryMethods, key: number): Promise<void> {
  await conn.query(sql.unsafe`SELECT pg_advisory_unlock(${key})`);
}

/** Answers when the database answers a trivial query (a health probe). */
export async function pingDatabase(db: CommonQueryMethods): Promise<void> {
  await db.query(sql.unsafe`SELECT 1`);
}
