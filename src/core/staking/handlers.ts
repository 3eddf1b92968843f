import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import type { StakingService } from "../../gen/tronpay/v1/staking_pb.js";
import { normalizeAddress } from "../../shared/address.js";
import { AppError } from "../../shared/errors.js";
import { formatAmount } from "../../shared/money.js";
import type { Chain } from "../chain/types.js";
import { principalOf } from "../kernel/context.js";
import { type WriteOptions, writeTx } from "../kernel/idempotent-writes.js";
import { operationToProto, withCurrentOperation } from "../operations/repo.js";
import type { SignerPolicyView } from "../operations/signer-policy.js";
import { delegate, stake, undelegate, unstake, withdrawUnstaked } from "./flows.js";
import { resourcesToProto, stakingStatus } from "./status.js";
import type { TopUpSettings } from "./topup.js";
import { lockBlocks, resourceOf, walletOf } from "./validate.js";

export interface StakingHandlerDeps {
  pool: DatabasePool;
  chain: Chain;
  /** The energy top-up policy's settings, when it is on (GetStakingStatus reports it). */
  energyTopUp?: TopUpSettings;
  /** The signer's policy: a delegation it would refuse is refused at the API. */
  signerPolicy?: SignerPolicyView;
  clock: () => number;
}

type Impl = ServiceImpl<typeof StakingService>;

/** The hooks of StakingService's writes: every answer shows the operation as it is now. */
export function stakingWrites(pool: DatabasePool): WriteOptions<typeof StakingService> {
  const reply = withCurrentOperation(pool);
  return {
    stake: { reply },
    unstake: { reply },
    delegate: { reply },
    undelegate: { reply },
    withdrawUnstaked: { reply },
  };
}

/** StakingService: each write is one idempotent operation for the engine; reads go to the chain. */
export function createStakingHandlers(deps: StakingHandlerDeps): Partial<Impl> {
  const { pool, chain } = deps;
  const principal = (ctx: HandlerContext) => principalOf(ctx).id;
  return {
    async stake(req, ctx) {
      const input = { principal: principal(ctx), walletId: req.walletId, amount: req.amount };
      const op = await stake(writeTx(ctx), chain, { ...input, resource: resourceOf(req.resource) });
      return { operation: operationToProto(op) };
    },
    async unstake(req, ctx) {
      const input = { principal: principal(ctx), walletId: req.walletId, amount: req.amount };
      const r = await unstake(writeTx(ctx), chain, {
        ...input,
        resource: resourceOf(req.resource),
      });
      return {
        operation: operationToProto(r.operation),
        pendingCount: r.pendingCount,
        availableAt: timestampFromMs(r.availableAt),
      };
    },
    async delegate(req, ctx) {
      const period = req.lockPeriod ?? { seconds: 0n, nanos: 0 };
      const op = await delegate(
        writeTx(ctx),
        chain,
        {
          principal: principal(ctx),
          walletId: req.walletId,
          amount: req.amount,
          resource: resourceOf(req.resource),
          receiver: req.receiverAddress,
          lockBlocks: lockBlocks(req.lock, period.seconds, period.nanos),
        },
        { policy: deps.signerPolicy, now: deps.clock() },
      );
      return { operation: operationToProto(op) };
    },
    async undelegate(req, ctx) {
      const op = await undelegate(writeTx(ctx), chain, {
        principal: principal(ctx),
        walletId: req.walletId,
        amount: req.amount,
        resource: resourceOf(req.resource),
        receiver: req.receiverAddress,
      });
      return { operation: operationToProto(op) };
    },
    async withdrawUnstaked(req, ctx) {
      const r = await withdrawUnstaked(writeTx(ctx), chain, principal(ctx), req.walletId);
      return { operation: operationToProto(r.operation), amount: formatAmount(r.amount) };
    },
    async getResources(req) {
      let address: string;
      if (req.account.case === "walletId")
        address = (await walletOf(pool, req.account.value)).address;
      else if (req.account.case === "address") address = normalizeAddress(req.account.value);
      else
        throw new AppError("request.invalid", "wallet_id or address is required", {
          metadata: { field: "account" },
        });
      const [b, s, head] = await Promise.all([
        chain.balances(address),
        chain.stakingState(address),
        chain.head(),
      ]);
      return { address, resources: resourcesToProto(b, s), blockNumber: head.number };
    },
    async getStakingStatus(req) {
      return stakingStatus(pool, chain, await walletOf(pool, req.walletId), deps.energyTopUp);
    },
  };
}
