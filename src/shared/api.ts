import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { getOption, hasOption } from "@bufbuild/protobuf";
import { http } from "../gen/google/api/annotations_pb.js";
import { AdminService } from "../gen/tronpay/v1/admin_pb.js";
import { NetworkService } from "../gen/tronpay/v1/network_pb.js";
import { OperationService } from "../gen/tronpay/v1/operation_pb.js";
import { type Access, access, Role, RoleSchema } from "../gen/tronpay/v1/options_pb.js";
import { PayeeService } from "../gen/tronpay/v1/payee_pb.js";
import { PayoutService } from "../gen/tronpay/v1/payout_pb.js";
import { StakingService } from "../gen/tronpay/v1/staking_pb.js";
import { UsdtService } from "../gen/tronpay/v1/usdt_pb.js";
import { WalletService } from "../gen/tronpay/v1/wallet_pb.js";
import { WebhookService } from "../gen/tronpay/v1/webhook_pb.js";

/** Every public service, the one list core, edge, the OpenAPI document and the CLI share. */
export const publicServices: readonly DescService[] = [
  PayoutService,
  PayeeService,
  WalletService,
  UsdtService,
  StakingService,
  OperationService,
  NetworkService,
  WebhookService,
  AdminService,
];

/** The access rule an RPC declares in the protos; undefined if it declares none. */
export function accessOf(method: DescMethod): Access | undefined {
  return hasOption(method, access) ? getOption(method, access) : undefined;
}

/** The roles that may call an RPC: the declared ones; admin always may. */
export function rolesOf(method: DescMethod): Role[] {
  const declared = accessOf(method)?.roles ?? [];
  return declared.includes(Role.ADMIN) ? [...declared] : [Role.ADMIN, ...declared];
}

/** The proto name of a role ("ROLE_ADMIN"), as clients see it in the API. */
export function roleProtoName(role: Role): string {
  return RoleSchema.value[role]?.name ?? String(role);
}

/** The google.api.http rule of an RPC, if it has one. */
export function httpRuleOf(method: DescMethod) {
  return hasOption(method, http) ? getOption(method, http) : undefined;
}
