import { Code, ConnectError } from "@connectrpc/connect";
import type { CommonQueryMethods } from "slonik";
import { connectClient } from "../cli/client.js";
import {
  BOOTSTRAP_OWNER,
  bootstrapAdminKey,
  createApiKey,
  revokeApiKey,
} from "../core/auth/keys.js";
import { MemoryRevocationList } from "../core/auth/revocation.js";
import { revokeTokensOfKey } from "../core/auth/tokens.js";
import { migrate } from "../core/db/migrate.js";
import { openDatabase } from "../core/db/pool.js";
import { Role } from "../gen/tronpay/v1/options_pb.js";
import { WalletPurpose, WalletService } from "../gen/tronpay/v1/wallet_pb.js";
import { AppError } from "../shared/errors.js";
import { UNIT } from "../shared/money.js";
import type { LauncherState } from "./state.js";

/** What the demo payout wallet receives once on a devnet. */
export const DEMO_FUNDING = { trx: 10_000n * UNIT, usdt: 100_000n * UNIT } as const;
/** The fee wallet pays for resources; a little TRX is enough for a demo. */
export const FEE_FUNDING = { trx: 1_000n * UNIT, usdt: 0n } as const;

/** The admin key this run prints, and what happened to the one the previous run printed. */
export interface AdminKey {
  id: string;
  key: string;
  bootstrapped: boolean;
  /** The previous run's key id when this call revoked it. */
  revoked?: string;
}

/**
 * Migrates the database and makes the admin key to print: the bootstrap key when none exists,
 * otherwise a fresh one named for this run. The key the previous run printed
 * (`previousKeyId`, from launcher.json) is revoked in the same transaction, with the tokens
 * issued from it, so only the latest printed key works. Runs before core uses the embedded
 * database, and closes its one connection, because that database serves one client at a time.
 */
export async function prepareDatabase(
  db: { url: string; poolSize: number },
  options: { previousKeyId?: string; now?: Date } = {},
): Promise<AdminKey> {
  const now = options.now ?? new Date();
  const pool = await openDatabase(db.url, db.poolSize);
  try {
    await migrate(pool);
    const name = `npm start ${now.toISOString().slice(0, 19).replace("T", " ")}`;
    const first = await bootstrapAdminKey(pool, name, now.getTime());
    if (first) return { ...first, bootstrapped: true };
    return await pool.transaction(async (tx) => {
      const revoked = options.previousKeyId
        ? await revokePrinted(tx, options.previousKeyId, now.getTime())
        : undefined;
      const created = await createApiKey(tx, {
        name,
        roles: [Role.ADMIN],
        // The same person as the bootstrap key: whoever runs `npm start`.
        owner: BOOTSTRAP_OWNER,
        createdBy: LAUNCHER,
        now: now.getTime(),
      });
      return { id: created.id, key: created.key, bootstrapped: false, revoked };
    });
  } finally {
    await pool.end();
  }
}

const LAUNCHER = "system:launcher";

/**
 * Revokes a key printed by an earlier run, and every token issued from it; its id, or
 * undefined when this database does not have it (launcher.json from another database).
 */
async function revokePrinted(
  tx: CommonQueryMethods,
  id: string,
  now: number,
): Promise<string | undefined> {
  try {
    await revokeApiKey(tx, { id, by: LAUNCHER, reason: "replaced by the next npm start", now });
  } catch (err) {
    if (err instanceof AppError && err.reason === "request.not_found") return undefined;
    throw err;
  }
  // Core is not serving yet: it loads every revocation from the database when it starts, so
  // this list only carries the call (it is the same code path as AdminService.RevokeApiKey).
  await revokeTokensOfKey(tx, new MemoryRevocationList(() => now), { apiKeyId: id, now });
  return id;
}

type Wallet = { id: string; address: string };

/**
 * The payout and fee wallets: those remembered in launcher.json when core still knows them,
 * else new ones created through core's WalletService (the signer derives their keys).
 */
export async function ensureWallets(
  conn: { url: string; key: string },
  state: LauncherState,
): Promise<{ payout: Wallet; fee: Wallet }> {
  const wallets = connectClient(WalletService, conn);
  const ensure = async (known: Wallet | undefined, purpose: WalletPurpose, label: string) => {
    if (known) {
      const found = await wallets.getWallet({ id: known.id }).catch((err: unknown) => {
        if (err instanceof ConnectError && err.code === Code.NotFound) return undefined;
        throw err;
      });
      if (found?.wallet) return { id: found.wallet.id, address: found.wallet.address };
    }
    const { wallet } = await wallets.createWallet({
      // Fresh per call: a reused key would return the wallet of another database's run.
      idempotencyKey: `npm-start-${label}-${Date.now()}`,
      label,
      purpose,
    });
    if (!wallet) throw new Error("core created no wallet");
    return { id: wallet.id, address: wallet.address };
  };
  const payout = await ensure(state.payoutWallet, WalletPurpose.PAYOUT, "demo payouts");
  const fee = await ensure(state.feeWallet, WalletPurpose.FEE, "demo fees");
  return { payout, fee };
}
