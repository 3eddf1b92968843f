/**
 * The bare handler: node:http and a slonik pool, nothing of core's code. Each route writes one
 * payout the cheapest durable way (anchor.ts's statement) and answers its id:
 *
 *   POST /insert      the statement alone, autocommitted (what pgbench runs, plus HTTP)
 *   POST /old-limit   in a transaction after the daily-limit check as it was before migration
 *                     012: an advisory lock per route and asset, then a sum over today's payouts
 *   POST /new-limit   in a transaction after the daily-limit check of migration 012: lock and
 *                     read one daily_usage row (the database counts the new row itself)
 *
 * The two limit routes copy the SQL here on purpose: a baseline must not share the code it
 * is compared with.
 *
 *   DATABASE_URL=… WALLET_ID=… OWNER=… RECIPIENT=… node --import tsx bench/bare-server.ts
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { createPool, sql } from "slonik";
import { z } from "zod";
import { minimalInsert } from "./anchor.js";

const rows = {
  walletId: String(process.env.WALLET_ID),
  ownerAddress: String(process.env.OWNER),
  recipientAddress: String(process.env.RECIPIENT),
};
const LIMIT = 10n ** 15n;
const pool = await createPool(String(process.env.DATABASE_URL), { maximumPoolSize: 10 });
const Used = z.object({ used: z.bigint() });

function insert(id: string) {
  const text = minimalInsert(rows, "$1", "bare");
  const strings = text.split("$1");
  const tpl = Object.freeze(Object.assign([...strings], { raw: Object.freeze([...strings]) }));
  return sql.unsafe(tpl as unknown as TemplateStringsArray, id);
}

const routes: Record<string, (id: string) => Promise<void>> = {
  "/insert": async (id) => {
    await pool.query(insert(id));
  },
  "/old-limit": (id) =>
    pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock(hashtext('limits:V0:USDT'))`);
      const used = await tx.oneFirst(sql.type(Used)`
        SELECT coalesce(sum(o.amount), 0)::bigint AS used FROM operations o JOIN payouts p ON p.id = o.id
        WHERE p.route = 'V0' AND o.asset = 'USDT' AND o.state <> 'CANCELLED' AND o.state <> 'FAILED'
          AND o.created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`);
      if (used + 1n > LIMIT) throw new Error("limit");
      await tx.query(insert(id));
    }),
  "/new-limit": (id) =>
    pool.transaction(async (tx) => {
      const used = await tx.oneFirst(sql.type(Used)`
        INSERT INTO daily_usage (route, asset, day, used) VALUES ('V0', 'USDT', (now() AT TIME ZONE 'UTC')::date, 0)
        ON CONFLICT (route, asset, day) DO UPDATE SET used = daily_usage.used RETURNING used`);
      if (used + 1n > LIMIT) throw new Error("limit");
      await tx.query(insert(id));
    }),
};

const server = createServer((req, res) => {
  const route = routes[req.url ?? ""];
  req.resume();
  req.on("end", () => {
    if (req.method !== "POST" || !route) {
      res.writeHead(404).end();
      return;
    }
    const id = `po_bare_${randomUUID().replaceAll("-", "")}`;
    route(id).then(
      () => res.writeHead(200, { "content-type": "application/json" }).end(`{"id":"${id}"}`),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" ? address?.port : 0;
  console.log(JSON.stringify({ msg: "bare ready", port }));
});
