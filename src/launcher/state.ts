import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";

const WALLET = z.object({ id: z.string(), address: z.string() });

/** What `npm start` remembers between runs (`<dataDir>/launcher.json`); holds no secret. */
export const launcherStateSchema = z.object({
  /** core's Connect/gRPC URL of the latest run; the CLI's default --url. */
  coreUrl: z.string().optional(),
  /** The edge's REST URL, when the edge ran. */
  restUrl: z.string().optional(),
  payoutWallet: WALLET.optional(),
  feeWallet: WALLET.optional(),
  /** Addresses already funded on this data directory's devnet. */
  funded: z.array(z.string()).default([]),
  /**
   * Id (never the secret) of the admin key printed by the latest run; the next run revokes it
   * when it prints a new one.
   */
  adminKeyId: z.string().optional(),
});

export type LauncherState = z.infer<typeof launcherStateSchema>;

/** The launcher.json of a data directory; TRONPAY_DATA_DIR, else `.data`. */
export function launcherStateFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(resolve(env.TRONPAY_DATA_DIR || ".data"), "launcher.json");
}

/** Reads launcher.json; an absent file is an empty state. */
export function readLauncherState(file: string): LauncherState {
  if (!existsSync(file)) return launcherStateSchema.parse({});
  return launcherStateSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}

/** Writes launcher.json atomically (a crash leaves the old or the new file, never half). */
export function writeLauncherState(file: string, state: LauncherState): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
