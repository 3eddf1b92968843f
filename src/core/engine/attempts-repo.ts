import { type CommonQueryMethods, sql } from "slonik";
import { ATTEMPT_COLUMNS, AttemptRow } from "./repo.js";

/** Every attempt of an operation, oldest first. */
export async function attemptsOfOperation(
  db: CommonQueryMethods,
  operationId: string,
): Promise<readonly AttemptRow[]> {
  return db.any(sql.type(AttemptRow)`
    SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE operation_id = ${operationId} ORDER BY attempt_no`);
}

/** True when an attempt with that transaction id is stored. */
export async function attemptStored(db: CommonQueryMethods, txId: string): Promise<boolean> {
  return db.exists(sql.unsafe`SELECT 1 FROM attempts WHERE tx_id = ${txId}`);
}
