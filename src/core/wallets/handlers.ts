import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Client, ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import type { SignerService } from "../../gen/tronpay/signer/v1/signer_pb.js";
import {
  CreateWalletRequestSchema,
  CreateWalletResponseSchema,
  type Wallet,
  WalletPurpose,
  WalletSchema,
  type WalletService,
} from "../../gen/tronpay/v1/wallet_pb.js";
import { AppError } from "../../shared/errors.js";
import { formatAmount } from "../../shared/money.js";
import type { Chain } from "../chain/types.js";
import { principalOf } from "../context.js";
import { idempotent } from "../idempotency.js";
import { newId } from "../ids.js";
import { findWallet, insertWallet, listWalletRows, type WalletRow } from "./repo.js";

export interface WalletHandlerDeps {
  pool: DatabasePool;
  signer: Client<typeof SignerService>;
  chain: Chain;
  clock: () => number;
}

/**
 * WalletService: CreateWallet asks the signer to derive a key and stores only its public side.
 * Import, transactions and backup/restore come with the wallet work; they are left out (Connect
 * answers unimplemented) rather than stubbed.
 */
export function createWalletHandlers(
  deps: WalletHandlerDeps,
): Partial<ServiceImpl<typeof WalletService>> {
  return {
    async createWallet(req, ctx) {
      const principal = principalOf(ctx).id;
      const purpose = WalletPurpose[req.purpose] as WalletRow["purpose"] | "UNSPECIFIED";
      if (req.purpose === WalletPurpose.UNSPECIFIED || purpose === undefined) {
        throw new AppError("request.invalid", "purpose is required", {
          metadata: { field: "purpose" },
        });
      }
      if (req.label.length > 100)
        throw new AppError("request.invalid", "label must be at most 100 characters", {
          metadata: { field: "label" },
        });
      return idempotent(
        deps.pool,
        {
          principal,
          method: "tronpay.v1.WalletService/CreateWallet",
          requestSchema: CreateWalletRequestSchema,
          request: req,
          responseSchema: CreateWalletResponseSchema,
        },
        async (tx) => {
          const id = newId("wal");
          // The wallet id is the signer's label: a retried derive returns the same key.
          const key = await deps.signer.deriveKey({ account: req.account, label: id });
          const row = await insertWallet(tx, {
            id,
            address: key.address,
            label: req.label,
            purpose: purpose as WalletRow["purpose"],
            derivation_path: key.derivationPath,
            imported: false,
            created_by: principal,
          });
          return { wallet: walletToProto(row) };
        },
      );
    },
    async getWallet(req) {
      return { wallet: walletToProto(await mustFind(deps.pool, req.id)) };
    },
    async listWallets(req) {
      const limit = Math.min(req.page?.pageSize || 50, 500);
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

async function mustFind(pool: DatabasePool, id: string): Promise<WalletRow> {
  const row = await findWallet(pool, id);
  if (!row)
    throw new AppError("request.not_found", "no wallet with that id", {
      metadata: { field: "id" },
    });
  return row;
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
