import { Code, ConnectError } from "@connectrpc/connect";
import { connectClient } from "../cli/client.js";
import { bootstrapAdminKey, createApiKey } from "../core/auth/keys.js";
import { migrate } from "../core/db/migrate.js";
import { openDatabase } from "../core/db/pool.js";
import { Role } from "../gen/tronpay/v1/options_pb.js";
import { WalletPurpose, WalletService } from "../gen/tronpay/v1/wallet_pb.js";
import { UNIT } from "../shared/money.js";
import type { LauncherState } from "./state.js";

/** What the demo payout wallet receives once on a devnet. */
export const DEMO_FUNDING = { trx: 10_000n * UNIT, usdt: 100_000n * UNIT } as const;
/** The fee wallet pays for resources; a little TRX is enough for a demo. */
export const FEE_FUNDING = { trx: 1_000n * UNIT, usdt: 0n } as const;

/**
 * Migrates the database and makes an admin key to print: the bootstrap key when none exists,
 * otherwise a fresh one named for this run. Runs before core starts, and closes its one
 * connection, because the embedded database serves one client at a time.
 */
export async function prepareDatabase(
  databaseUrl: string,
  poolSize: number,
  now: Date = new Date(),
): Promise<{ id: string; key: string; bootstrapped: boolean }> {
  const pool = await openDatabase(databaseUrl, poolSize);
  try {
    await migrate(pool);
    const name = `npm start ${now.toISOString().slice(0, 19).replace("T", " ")}`;
    const first = await bootstrapAdminKey(pool, name, now.getTime());
    if (first) return { ...first, bootstrapped: true };
    const created = await pool.transaction((tx) =>
      createApiKey(tx, {
        name,
        roles: [Role.ADMIN],
        createdBy: "system:launcher",
        now: now.getTime(),
      }),
    );
    return { id: created.id, key: created.key, bootstrapped: false };
  } finally {
    await pool.end();
  }
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
