import { createPool, type DatabasePool } from "slonik";

export type { CommonQueryMethods, DatabasePool, DatabaseTransactionConnection } from "slonik";

/**
 * Opens the PostgreSQL pool. slonik's default type parsers read int8 as bigint (money stays
 * exact) and timestamps as ms numbers.
 */
export async function openDatabase(url: string, maximumPoolSize = 10): Promise<DatabasePool> {
  return createPool(url, {
    maximumPoolSize,
    // A statement that hangs must not hold a payout worker forever.
    statementTimeout: 30_000,
    idleInTransactionSessionTimeout: 60_000,
    connectionTimeout: 10_000,
    // slonik's default sends DISCARD ALL on every release: one more round trip for every query
    // and transaction through the pool, and the plans of the connection thrown away. Nothing
    // here leaves session state behind: settings are per transaction (SET TRANSACTION), and
    // the session advisory locks (migrations, audit chain, jobs) are released in a finally.
    resetConnection: async () => {},
  });
}
