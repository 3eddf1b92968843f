import { create } from "@bufbuild/protobuf";
import { createPool, type DatabasePool, type PrimitiveValueExpression, sql } from "slonik";
import { z } from "zod";
import { idempotent } from "../src/core/kernel/idempotency.js";
import { payoutToProto } from "../src/core/payouts/convert.js";
import { createPayout } from "../src/core/payouts/flows.js";
import type { PayoutRules } from "../src/core/payouts/validate.js";
import {
  CreatePayoutRequestSchema,
  CreatePayoutResponseSchema,
} from "../src/gen/tronpay/v1/payout_pb.js";

/** One statement CreatePayout sent, and the plan PostgreSQL chose for it. */
export interface Plan {
  sql: string;
  plan: string;
}

const BIG = 10n ** 15n;
const RULES: PayoutRules = {
  limits: {
    V0: { maxPerPayout: BIG, maxPerDay: BIG },
    KYC: { maxPerPayout: BIG, maxPerDay: BIG },
    DIRECT: { maxPerPayout: BIG, maxPerDay: BIG },
  },
  approvalThreshold: BIG,
};

/**
 * Runs core's own CreatePayout flow once (idempotent() around createPayout, as the handler
 * does) on a pool that records every statement, then asks PostgreSQL for the plan of each
 * with the same parameters (EXPLAIN without ANALYZE: nothing runs twice). Also the statements
 * migration 012's insert trigger runs, and — for contrast — the sum the old limit check ran.
 */
export async function explainCreatePayout(
  url: string,
  walletId: string,
  recipient: string,
): Promise<Plan[]> {
  const seen: { sql: string; values: readonly PrimitiveValueExpression[] }[] = [];
  const pool = await createPool(url, {
    maximumPoolSize: 1,
    interceptors: [
      {
        name: "record",
        beforeQueryExecution: (_ctx, q) => {
          seen.push({ sql: q.sql, values: q.values });
          return null;
        },
      },
    ],
  });
  const key = `explain-${Date.now()}`;
  try {
    const request = create(CreatePayoutRequestSchema, { idempotencyKey: key });
    await idempotent(
      pool,
      {
        principal: "bench-explain",
        method: "bench/explain",
        requestSchema: CreatePayoutRequestSchema,
        request,
        responseSchema: CreatePayoutResponseSchema,
      },
      async (tx) => {
        const row = await createPayout(
          tx,
          RULES,
          { principal: "bench-explain", now: Date.now() },
          key,
          {
            walletId,
            recipientAddress: recipient,
            payeeTag: "",
            asset: "USDT",
            amount: "0.000001",
            route: "V0",
            priority: 0,
            memo: "",
            clientReference: "",
            metadata: {},
            kycHash: "",
          },
        );
        return { payout: payoutToProto(row, []) };
      },
    );
  } finally {
    await pool.end();
  }
  const plain = await createPool(url, { maximumPoolSize: 1 });
  try {
    const plans: Plan[] = [];
    for (const q of seen) plans.push({ sql: q.sql, plan: await explain(plain, q.sql, q.values) });
    const trigger = [
      "SELECT state, asset, amount, created_at FROM operations WHERE id = $1",
      `INSERT INTO daily_usage (route, asset, day, used) VALUES ('V0', 'USDT', (now() AT TIME ZONE 'UTC')::date, 1)
       ON CONFLICT (route, asset, day) DO UPDATE SET used = daily_usage.used + EXCLUDED.used`,
    ];
    plans.push({
      sql: `(insert trigger) ${trigger[0]}`,
      plan: await explain(plain, trigger[0] as string, ["po_x"]),
    });
    plans.push({
      sql: `(insert trigger) ${trigger[1]}`,
      plan: await explain(plain, trigger[1] as string, []),
    });
    const old = `SELECT coalesce(sum(o.amount), 0)::bigint AS used FROM operations o JOIN payouts p ON p.id = o.id
      WHERE p.route = 'V0' AND o.asset = 'USDT' AND o.state <> 'CANCELLED' AND o.state <> 'FAILED'
        AND o.created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;
    plans.push({
      sql: `(before migration 012, under an advisory lock; EXPLAIN ANALYZE) ${old}`,
      plan: await explain(plain, old, [], "ANALYZE, BUFFERS"),
    });
    return plans;
  } finally {
    await plain.end();
  }
}

/**
 * Runs `run` once on a pool that records every statement it sends, then asks PostgreSQL for
 * the plan of each with the same parameters: EXPLAIN (ANALYZE, BUFFERS) unless `options` says
 * otherwise, so only for statements that may run twice (reads).
 */
export async function explainStatements(
  url: string,
  run: (pool: DatabasePool) => Promise<unknown>,
  options = "ANALYZE, BUFFERS",
): Promise<Plan[]> {
  const seen: { sql: string; values: readonly PrimitiveValueExpression[] }[] = [];
  const pool = await createPool(url, {
    maximumPoolSize: 1,
    interceptors: [
      {
        name: "record",
        beforeQueryExecution: (_ctx, q) => {
          seen.push({ sql: q.sql, values: q.values });
          return null;
        },
      },
    ],
  });
  try {
    await run(pool);
  } finally {
    await pool.end();
  }
  const plain = await createPool(url, { maximumPoolSize: 1 });
  try {
    const plans: Plan[] = [];
    for (const q of seen)
      plans.push({ sql: q.sql, plan: await explain(plain, q.sql, q.values, options) });
    return plans;
  } finally {
    await plain.end();
  }
}

/** EXPLAIN of a recorded statement: placeholders $1…$n become slonik values again. */
async function explain(
  pool: DatabasePool,
  text: string,
  values: readonly PrimitiveValueExpression[],
  options = "COSTS OFF",
): Promise<string> {
  const parts = `EXPLAIN (${options}) ${text}`.split(/\$\d+/);
  const strings = Object.freeze(Object.assign([...parts], { raw: Object.freeze([...parts]) }));
  const args = values.map((v) =>
    Buffer.isBuffer(v) ? sql.binary(v) : Array.isArray(v) ? sql.array(v as string[], "text") : v,
  );
  const rows = await pool.anyFirst(
    sql.type(z.object({ "QUERY PLAN": z.string() }))(
      strings as unknown as TemplateStringsArray,
      ...(args as never[]),
    ),
  );
  return rows.join("\n");
}
