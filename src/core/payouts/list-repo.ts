import { type CommonQueryMethods, type FragmentSqlToken, sql } from "slonik";
import { PAYOUT_COLUMNS, PayoutRow } from "./repo.js";

/** Filters for listing payouts. */
export interface PayoutFilter {
  states: string[];
  routes: string[];
  walletId: string;
  payeeTag: string;
  recipient: string;
  batchId: string;
  clientReference: string;
  createdFrom?: number;
  createdTo?: number;
  /** Keyset cursor: (created_at in µs, id) of the last row of the previous page. */
  after?: { createdUs: bigint; id: string };
  limit: number;
}

/**
 * A page of payouts, newest first: ORDER BY (created_at, id) DESC after the cursor, LIMIT n.
 *
 * Every filter has an index in that order (migration 015), on the table that holds the filter's
 * column: operations (state, recipient, wallet) or payouts (route, payee tag, client
 * reference, batch, and no filter at all). The page is ordered, bounded and cut by the
 * created_at and id of that table (both rows of a payout have the same), so PostgreSQL walks
 * the index from the cursor and stops after n rows instead of sorting every match. Several
 * states (or routes) are one ordered branch per value, merged: `col = ANY(…)` cannot walk one
 * index in order.
 */
export async function listPayoutRows(
  db: CommonQueryMethods,
  f: PayoutFilter,
): Promise<PayoutRow[]> {
  // Any filter on operations orders by operations (states are then its branches).
  const onOperations = f.states.length > 0 || f.walletId !== "" || f.recipient !== "";
  const t = sql.identifier([onOperations ? "o" : "p"]);
  const where: FragmentSqlToken[] = [];
  if (onOperations && f.routes.length)
    where.push(sql.fragment`p.route = ANY(${sql.array(f.routes, "text")})`);
  if (f.walletId) where.push(sql.fragment`o.wallet_id = ${f.walletId}`);
  if (f.payeeTag) where.push(sql.fragment`p.payee_tag = ${f.payeeTag}`);
  if (f.recipient) where.push(sql.fragment`o.counterparty_address = ${f.recipient}`);
  if (f.batchId) where.push(sql.fragment`p.batch_id = ${f.batchId}`);
  if (f.clientReference) where.push(sql.fragment`p.client_reference = ${f.clientReference}`);
  if (f.createdFrom !== undefined)
    where.push(sql.fragment`${t}.created_at >= ${ts(f.createdFrom)}`);
  if (f.createdTo !== undefined) where.push(sql.fragment`${t}.created_at < ${ts(f.createdTo)}`);
  if (f.after) {
    const at = sql.fragment`'epoch'::timestamptz + ${f.after.createdUs} * interval '1 microsecond'`;
    where.push(sql.fragment`(${t}.created_at, ${t}.id) < (${at}, ${f.after.id})`);
  }
  // The values one ordered branch each: the states on operations, the routes on payouts.
  const split = onOperations
    ? f.states.map((s) => sql.fragment`o.state = ${s}`)
    : f.routes.map((r) => sql.fragment`p.route = ${r}`);
  const branch = (extra: FragmentSqlToken[]) => {
    const all = [...where, ...extra];
    return sql.fragment`
      SELECT ${PAYOUT_COLUMNS} FROM operations o JOIN payouts p ON p.id = o.id
      WHERE ${all.length ? sql.join(all, sql.fragment` AND `) : sql.fragment`true`}
      ORDER BY ${t}.created_at DESC, ${t}.id DESC LIMIT ${f.limit}`;
  };
  if (split.length <= 1) return [...(await db.any(sql.type(PayoutRow)`${branch(split)}`))];
  const branches = split.map((s) => sql.fragment`(${branch([s])})`);
  const rows = await db.any(sql.type(PayoutRow)`
    SELECT * FROM (${sql.join(branches, sql.fragment` UNION ALL `)}) u
    ORDER BY created_us DESC, id DESC LIMIT ${f.limit}`);
  return [...rows];
}

function ts(ms: number) {
  return sql.fragment`'epoch'::timestamptz + ${ms} * interval '1 millisecond'`;
}
