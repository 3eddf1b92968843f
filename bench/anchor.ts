import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoopRun } from "./loop.js";
import { quantile } from "./stats.js";

/**
 * The physical anchor: pgbench running the smallest durable write a payout needs (operation,
 * payout and outbox rows, one autocommitted statement) on the same database in the same run.
 * Nothing of tronpay runs in it, so "× anchor" is how much of the database's own speed the API
 * keeps. The bare handler (bare-server.ts) sends the same statement over HTTP.
 */

/** Where the rows come from; all three go into the statement as literals, so they are checked. */
export interface AnchorRows {
  walletId: string;
  ownerAddress: string;
  recipientAddress: string;
}

const SAFE = /^[A-Za-z0-9_]{1,64}$/;

/** The statement, with `id` an SQL expression for the new payout id. */
export function minimalInsert(rows: AnchorRows, id: string, principal: string): string {
  for (const v of [rows.walletId, rows.ownerAddress, rows.recipientAddress, principal])
    if (!SAFE.test(v)) throw new Error(`unsafe literal for the anchor statement: ${v}`);
  return `WITH o AS (
  INSERT INTO operations (id, kind, state, asset, amount, wallet_id, owner_address, counterparty_address, created_by)
  VALUES (${id}, 'PAYOUT', 'QUEUED', 'USDT', 1, '${rows.walletId}', '${rows.ownerAddress}', '${rows.recipientAddress}', '${principal}')
  RETURNING id
), p AS (
  INSERT INTO payouts (id, principal, idempotency_key, route) SELECT id, '${principal}', id, 'V0' FROM o RETURNING id
)
INSERT INTO outbox (event_id, type, subject_id, payload) SELECT 'evt_' || id, 'payout.created', id, '{}' FROM p`;
}

/** The pgbench binary, or why there is none. */
export function findPgbench(): { path: string } | { skip: string } {
  try {
    return { path: execFileSync("which", ["pgbench"], { encoding: "utf8" }).trim() };
  } catch {
    return { skip: "pgbench is not installed (Debian: apt-get install postgresql-contrib)" };
  }
}

/** `clients` pgbench connections for `ms` milliseconds; latencies from its per-transaction log. */
export async function pgbenchRun(
  pgbench: string,
  url: string,
  rows: AnchorRows,
  clients: number,
  ms: number,
): Promise<LoopRun> {
  const dir = mkdtempSync(join(tmpdir(), "tronpay-pgbench-"));
  try {
    const script = join(dir, "insert.sql");
    const id = `'po_pgb_' || md5(random()::text || clock_timestamp()::text || :client_id)`;
    writeFileSync(script, `${minimalInsert(rows, id, "anchor").replace(/\n\s*/g, " ")};\n`);
    const args = ["-n", "-c", String(clients), "-j", String(Math.min(clients, 2))];
    args.push("-T", String(Math.max(1, Math.round(ms / 1000))), "-f", script, "-l");
    args.push("--log-prefix", join(dir, "log"), url);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(pgbench, args, { cwd: dir, encoding: "utf8" }, (err, stdout, stderr) =>
        err ? reject(new Error(`pgbench failed: ${stderr || err.message}`)) : resolve(stdout),
      ),
    );
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1] ?? 0);
    const failed = Number(/number of failed transactions: (\d+)/.exec(out)?.[1] ?? 0);
    const latencies = readdirSync(dir)
      .filter((f) => f.startsWith("log."))
      .flatMap((f) =>
        readFileSync(join(dir, f), "utf8")
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => Number(l.split(" ")[2]) / 1000),
      );
    return {
      rps: tps,
      p50: quantile(latencies, 0.5),
      p95: quantile(latencies, 0.95),
      p99: quantile(latencies, 0.99),
      errors: failed,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
