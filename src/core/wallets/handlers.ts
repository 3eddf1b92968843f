import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { Client, ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import type { SignerService } from "../../gen/tronpay/signer/v1/signer_pb.js";
import {
  type Wallet,
  WalletPurpose,
  WalletSchema,
  type WalletService,
} from "../../gen/tronpay/v1/wallet_pb.js";
import { AppError } from "../../shared/errors.js";
import { formatAmount } from "../../shared/money.js";
import type { Chain } from "../chain/types.js";
import { principalOf } from "../kernel/context.js";
import { type WriteOptions, writeTx } from "../kernel/idempotent-writes.js";
import { pageSizeOf } from "../kernel/page.js";
import { exportBackup } from "./backup.js";
import { createWallet, importWallet, restoreWallets } from "./flows.js";
import { listWalletRows, type WalletRow, walletOrThrow } from "./repo.js";
import { walletTransactions } from "./transactions.js";

export interface WalletHandlerDeps {
  pool: DatabasePool;
  signer: Client<typeof SignerService>;
  chain: Chain;
  clock: () => number;
}

/**
 * WalletService: proto ↔ domain around the wallet flows (flows.ts: derive, import, restore
 * through the signer, storing only public sides), listings, balances and backups.
 */
export function createWalletHandlers(
  deps: WalletHandlerDeps,
): Partial<ServiceImpl<typeof WalletService>> {
  return {
    async createWallet(req, ctx) {
      const w = { account: req.account, label: req.label, purpose: purposeOf(req.purpose) };
      return {
        wallet: walletToProto(
          await createWallet(writeTx(ctx), deps.signer, principalOf(ctx).id, w),
        ),
      };
    },
    async importWallet(req, ctx) {
      const w = {
        encryptedKey: req.encryptedKey,
        label: req.label,
        purpose: purposeOf(req.purpose),
      };
      return {
        wallet: walletToProto(
          await importWallet(writeTx(ctx), deps.signer, principalOf(ctx).id, w),
        ),
      };
    },
    async listWalletTransactions(req) {
      const wallet = await mustFind(deps.pool, req.id);
      const page = await walletTransactions(deps.pool, wallet, {
        kinds: req.kinds,
        direction: req.direction,
        startMs: req.range?.startTime ? timestampMs(req.range.startTime) : undefined,
        endMs: req.range?.endTime ? timestampMs(req.range.endTime) : undefined,
        pageSize: req.page?.pageSize ?? 0,
        pageToken: req.page?.pageToken ?? "",
      });
      return { transactions: page.transactions, page: { nextPageToken: page.nextPageToken } };
    },
    backupWallets: (_req, ctx) => exportBackup(deps.pool, deps.signer, principalOf(ctx).id),
    async restoreWallets(req, ctx) {
      const r = await restoreWallets(writeTx(ctx), deps.signer, principalOf(ctx).id, req.backup);
      return { ...r, wallets: r.wallets.map(walletToProto) };
    },
    async getWallet(req) {
      return { wallet: walletToProto(await mustFind(deps.pool, req.id)) };
    },
    async listWallets(req) {
      const limit = pageSizeOf(req.page?.pageSize);
      const after = req.page?.pageToken ?? "";
      const rows = await listWalletRows(
        deps.pool,
        req.purposes.map((p) => WalletPurpose[p]),
        after,
        limit + 1,
      );
      const page = rows.slice(0, limit);
      return {
        wallets: page.map(walletToProto),
        page: { nextPageToken: rows.length > limit ? (page.at(-1)?.id ?? "") : "" },
      };
    },
    async getWalletBalance(req) {
      const wallet = await mustFind(deps.pool, req.id);
      const [b, head] = await Promise.all([deps.chain.balances(wallet.address), deps.chain.head()]);
      return {
        balance: {
          walletId: wallet.id,
          address: wallet.address,
          trx: formatAmount(b.trx),
          usdt: formatAmount(b.usdt),
          resources: {
            freeBandwidthLimit: b.bandwidth.freeLimit,
            freeBandwidthUsed: b.bandwidth.freeUsed,
            stakedBandwidthLimit: b.bandwidth.stakedLimit,
            stakedBandwidthUsed: b.bandwidth.stakedUsed,
            energyLimit: b.energy.limit,
            energyUsed: b.energy.used,
          },
          blockNumber: head.number,
          readAt: timestampFromMs(deps.clock()),
        },
      };
    },
  };
}

/** The checks of WalletService's writes, made before the transaction opens. */
export const walletWrites: WriteOptions<typeof WalletService> = {
  createWallet: {
    check(req) {
      purposeOf(req.purpose);
      checkLabel(req.label);
    },
  },
  importWallet: {
    check(req) {
      purposeOf(req.purpose);
      checkLabel(req.label);
      if (req.encryptedKey.length === 0 || req.encryptedKey.length > 4096) {
        throw new AppError("request.invalid", "encrypted_key must be 1 byte to 4 KiB", {
          metadata: { field: "encrypted_key" },
        });
      }
    },
  },
  restoreWallets: {
    check(req) {
      if (req.backup.length === 0 || req.backup.length > 16 * 1024 * 1024) {
        throw new AppError("request.invalid", "backup must be 1 byte to 16 MiB", {
          metadata: { field: "backup" },
        });
      }
    },
  },
};

function purposeOf(p: WalletPurpose): WalletRow["purpose"] {
  const name = WalletPurpose[p] as WalletRow["purpose"] | "UNSPECIFIED" | undefined;
  if (name === undefined || name === "UNSPECIFIED") {
    throw new AppError("request.invalid", "purpose is required", {
      metadata: { field: "purpose" },
    });
  }
  return name;
}

function checkLabel(label: string): void {
  if (label.length > 100)
    throw new AppError("request.invalid", "label must be at most 100 characters", {
      metadata: { field: "label" },
    });
}

async function mustFind(pool: DatabasePool, id: string): Promise<WalletRow> {
  return walletOrThrow(pool, id, { field: "id", reason: "request.not_found" });
}

/** The proto Wallet for a stored wallet. */
export function walletToProto(row: WalletRow): Wallet {
  return create(WalletSchema, {
    id: row.id,
    label: row.label,
    purpose: WalletPurpose[row.purpose],
    address: row.address,
    derivationPath: row.derivation_path,
    imported: row.imported,
    createdBy: row.created_by,
    createdAt: timestampFromMs(row.created_at),
  });
}
