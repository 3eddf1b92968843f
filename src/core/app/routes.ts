import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { Health } from "../../gen/health/v1/health_pb.js";
import { AdminService } from "../../gen/tronpay/v1/admin_pb.js";
import { NetworkService } from "../../gen/tronpay/v1/network_pb.js";
import { OperationService } from "../../gen/tronpay/v1/operation_pb.js";
import { PayeeService } from "../../gen/tronpay/v1/payee_pb.js";
import { PayoutService } from "../../gen/tronpay/v1/payout_pb.js";
import { StakingService } from "../../gen/tronpay/v1/staking_pb.js";
import { UsdtService } from "../../gen/tronpay/v1/usdt_pb.js";
import { WalletService } from "../../gen/tronpay/v1/wallet_pb.js";
import { WebhookService } from "../../gen/tronpay/v1/webhook_pb.js";
import { type AdminDeps, adminWrites, createAdminHandlers } from "../admin/handlers.js";
import { createHealthHandlers, type HealthMonitor } from "../health/index.js";
import { idempotentWrites, type WriteOptions } from "../kernel/idempotent-writes.js";
import { createNetworkHandlers, type NetworkHandlerDeps } from "../network/handlers.js";
import { createOperationHandlers, operationWrites } from "../operations/handlers.js";
import { createPayeeHandlers, type PayeeHandlerDeps } from "../payees/handlers.js";
import { createPayoutHandlers, type PayoutHandlerDeps, payoutWrites } from "../payouts/handlers.js";
import { registerReflection } from "../reflection/service.js";
import {
  createStakingHandlers,
  type StakingHandlerDeps,
  stakingWrites,
} from "../staking/handlers.js";
import { createUsdtHandlers, type UsdtHandlerDeps, usdtWrites } from "../usdt/handlers.js";
import { createWalletHandlers, type WalletHandlerDeps, walletWrites } from "../wallets/handlers.js";
import {
  createWebhookHandlers,
  type WebhookHandlerDeps,
  webhookWrites,
} from "../webhooks/handlers.js";

export type RouteDeps = PayoutHandlerDeps &
  WalletHandlerDeps &
  NetworkHandlerDeps &
  AdminDeps &
  PayeeHandlerDeps &
  WebhookHandlerDeps &
  UsdtHandlerDeps &
  StakingHandlerDeps & { health: HealthMonitor };

/** AdminService with its writes served idempotently (tests serve it on its own). */
export function adminService(deps: AdminDeps) {
  return idempotentWrites(deps.pool, AdminService, createAdminHandlers(deps), adminWrites(deps));
}

/**
 * Every service core serves, registered in one place. An RPC whose handler is not built yet is
 * absent from its handler object, and Connect answers it `unimplemented`. Every RPC the protos
 * mark as a write is served through idempotentWrites here, with the hooks its service declares.
 */
export function registerRoutes(deps: RouteDeps): (router: ConnectRouter) => void {
  const { pool } = deps;
  return (router) => {
    const serve = <S extends DescService>(
      service: S,
      impl: Partial<ServiceImpl<S>>,
      writes?: WriteOptions<S>,
    ) => router.service(service, idempotentWrites(pool, service, impl, writes));
    serve(PayoutService, createPayoutHandlers(deps), payoutWrites(deps.log));
    serve(WalletService, createWalletHandlers(deps), walletWrites);
    serve(UsdtService, createUsdtHandlers(deps), usdtWrites(pool));
    serve(StakingService, createStakingHandlers(deps), stakingWrites(pool));
    serve(OperationService, createOperationHandlers(deps), operationWrites(pool));
    serve(NetworkService, createNetworkHandlers(deps));
    router.service(AdminService, adminService(deps));
    serve(PayeeService, createPayeeHandlers(deps));
    serve(WebhookService, createWebhookHandlers(deps), webhookWrites(deps.webhookPolicy));
    // The standard gRPC services: health (probes), then reflection, which describes all above.
    router.service(Health, createHealthHandlers(deps.health));
    registerReflection(router);
  };
}
