import { randomUUID } from "node:crypto";
import { toJson } from "@bufbuild/protobuf";
import type { Command } from "commander";
import { GetStatusResponseSchema, NetworkService } from "../gen/tronpay/v1/network_pb.js";
import {
  type Wallet,
  WalletBalanceSchema,
  WalletPurpose,
  WalletSchema,
  WalletService,
} from "../gen/tronpay/v1/wallet_pb.js";
import { connectClient, resolveConnection } from "./client.js";
import { type ApiOptions, apiOptions, enumName, json, print, table } from "./output.js";
import { parseEnum } from "./payouts.js";

/** `tronpay wallets list|create|balance` and `tronpay network status`. */
export function registerWalletCommands(program: Command): void {
  const wallets = program.command("wallets").description("wallets (keys live in the signer)");
  apiOptions(wallets.command("list").description("list wallets")).action(
    async (opts: ApiOptions) => {
      const res = await walletClient(opts).listWallets({ page: { pageSize: 500 } });
      if (opts.json) print(json(res.wallets.map((w) => toJson(WalletSchema, w))));
      else print(walletTable(res.wallets));
    },
  );
  apiOptions(wallets.command("create").description("derive a new wallet in the signer"))
    .requiredOption("--purpose <purpose>", "PAYOUT, FEE, HOT or STAKING")
    .option("--label <text>", "a name for people", "")
    .action(async (opts: ApiOptions & { purpose: string; label: string }) => {
      const { wallet } = await walletClient(opts).createWallet({
        idempotencyKey: randomUUID(),
        label: opts.label,
        purpose: parseEnum(WalletPurpose, opts.purpose, "purpose"),
      });
      if (!wallet) throw new Error("core answered without a wallet");
      print(opts.json ? json(toJson(WalletSchema, wallet)) : walletTable([wallet]));
    });
  apiOptions(wallets.command("balance <id>").description("TRX and USDT of a wallet")).action(
    async (id: string, opts: ApiOptions) => {
      const { balance } = await walletClient(opts).getWalletBalance({ id });
      if (!balance) throw new Error("core answered without a balance");
      if (opts.json) print(json(toJson(WalletBalanceSchema, balance)));
      else
        print(
          table(
            ["WALLET", "ADDRESS", "TRX", "USDT", "BLOCK"],
            [
              [
                balance.walletId,
                balance.address,
                balance.trx,
                balance.usdt,
                String(balance.blockNumber),
              ],
            ],
          ),
        );
    },
  );
  const network = program.command("network").description("the TRON node core uses");
  apiOptions(network.command("status").description("node, head and solidified blocks")).action(
    async (opts: ApiOptions) => {
      const status = await connectClient(NetworkService, resolveConnection(opts)).getStatus({});
      if (opts.json) print(json(toJson(GetStatusResponseSchema, status)));
      else
        print(
          table(
            ["NETWORK", "NODE", "REACHABLE", "HEAD", "SOLIDIFIED", "USDT"],
            [
              [
                status.network,
                status.nodeUrl,
                status.nodeReachable ? "yes" : "no",
                String(status.headBlockNumber),
                String(status.solidifiedBlockNumber),
                status.usdtContract,
              ],
            ],
          ),
        );
    },
  );
}

function walletClient(opts: ApiOptions) {
  return connectClient(WalletService, resolveConnection(opts));
}

function walletTable(wallets: readonly Wallet[]): string {
  return table(
    ["ID", "PURPOSE", "ADDRESS", "LABEL"],
    wallets.map((w) => [w.id, enumName(WalletPurpose, w.purpose), w.address, w.label]),
  );
}
