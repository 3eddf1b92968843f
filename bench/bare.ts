import { Supervised } from "../chaos/procs.js";
import { withTimeout } from "../chaos/stack.js";
import type { AnchorRows } from "./anchor.js";

/** The bare handler (bare-server.ts) as its own process, like core, on the given database. */
export async function startBare(
  databaseUrl: string,
  rows: AnchorRows,
): Promise<{ url: string; proc: Supervised }> {
  const proc = new Supervised({
    name: "bare",
    entry: "bench/bare-server.ts",
    readyMsg: "bare ready",
    env: {
      DATABASE_URL: databaseUrl,
      WALLET_ID: rows.walletId,
      OWNER: rows.ownerAddress,
      RECIPIENT: rows.recipientAddress,
    },
  });
  await withTimeout(proc.start(), 120_000, "the bare handler did not start");
  const port = JSON.parse(proc.lines.find((l) => l.includes("bare ready")) ?? "{}").port;
  return { url: `http://127.0.0.1:${port}`, proc };
}
