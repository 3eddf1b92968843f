import type { ConnectRouter } from "@connectrpc/connect";
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
import { type AdminDeps, createAdminHandlers } from "../admin/handlers.js";
import { createHealthHandlers, type HealthMonitor } from "../health/index.js";
import { createNetworkHandlers, type NetworkHandlerDeps } from "../network/handlers.js";
import { createOperationHandlers } from "../operations/handlers.js";
import { createPayeeHandlers, type PayeeHandlerDeps } from "../payees/handlers.js";
import { createPayoutHandlers, type PayoutHandlerDeps } from "../payouts/handlers.js";
import { registerReflection } from "../reflection/service.js";
import { createStakingHandlers, type StakingHandlerDeps } from "../staking/handlers.js";
import { createUsdtHandlers, type UsdtHandlerDeps } from "../usdt/handlers.js";
import { createWalletHandlers, type WalletHandlerDeps } from "../wallets/handlers.js";
import { createWebhookHandlers, type WebhookHandlerDeps } from "../webhooks/handlers.js";

export type RouteDeps = PayoutHandlerDeps &
  WalletHandlerDeps &
  NetworkHandlerDeps &
  AdminDeps &
  PayeeHandlerDeps &
  WebhookHandlerDeps &
  UsdtHandlerDeps &
  StakingHandlerDeps & { health: HealthMonitor };

/**
 * Every service core serves, registered in one place. An RPC whose handler is not built yet is
 * absent from its handler object, and Connect answers it `unimplemented`.
 */
export function registerRoutes(deps: RouteDeps): (router: ConnectRouter) => void {
  return (router) => {
    router.service(PayoutService, createPayoutHandlers(deps));
    router.service(WalletService, createWalletHandlers(deps));
    router.service(UsdtService, createUsdtHandlers(deps));
    router.service(StakingService, createStakingHandlers(deps));
    router.service(OperationService, createOperationHandlers(deps));
    router.service(NetworkService, createNetworkHandlers(deps));
    router.service(AdminService, createAdminHandlers(deps));
    router.service(PayeeService, createPayeeHandlers(deps));
    router.service(WebhookService, createWebhookHandlers(deps));
    // The standard gRPC services: health (probes), then reflection, which describes all above.
    router.service(Health, createHealthHandlers(deps.health));
    registerReflection(router);
  };
}
