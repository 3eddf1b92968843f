import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { OPERATION_KINDS } from "../operations/kinds.js";

/** The aggregates the scrape-time series read (metrics-scrape.ts); none locks anything. */

const QueueRow = z.object({
  kind: z.enum(OPERATION_KINDS),
  state: z.string(),
  n: z.number(),
  oldest: z.number(),
});

/**
 * Operations in `states` per kind and state, with the age (s) of the longest-waiting one:
 * updated_at moves on every state change, so now() − updated_at is the time in the state.
 */
export async function operationQueue(db: CommonQueryMethods, states: readonly string[]) {
  return db.any(sql.type(QueueRow)`
    SELECT kind, state, count(*)::int AS n,
           extract(epoch FROM now() - min(updated_at))::float8 AS oldest
    FROM operations WHERE state = ANY(${sql.array([...states], "text")})
    GROUP BY kind, state`);
}

/** Payouts per state, all time. */
export async function payoutStateCounts(db: CommonQueryMethods) {
  return db.any(sql.type(z.object({ state: z.string(), n: z.number() }))`
    SELECT o.state, count(*)::int AS n FROM operations o JOIN payouts p ON p.id = o.id
    GROUP BY o.state`);
}

/** Webhook endpoints that are not disabled, and whether each is failing. */
export async function endpointHealth(db: CommonQueryMethods) {
  return db.any(sql.type(z.object({ id: z.string(), failing: z.boolean() }))`
    SELECT id, state = 'FAILING' AS failing FROM webhook_endpoints WHERE state <> 'DISABLED'`);
}
