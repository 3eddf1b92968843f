import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool, DatabaseTransactionConnection } from "slonik";
import type { Operation } from "../../gen/tronpay/v1/common_pb.js";
import {
  DelegateRequestSchema,
  DelegateResponseSchema,
  StakeRequestSchema,
  StakeResponseSchema,
  StakingService,
  UndelegateRequestSchema,
  UndelegateResponseSchema,
  UnstakeRequestSchema,
  UnstakeResponseSchema,
  WithdrawUnstakedRequestSchema,
  WithdrawUnstakedResponseSchema,
} from "../../gen/tronpay/v1/staking_pb.js";
import { normalizeAddress } from "../../shared/address.js";
import { AppError } from "../../shared/errors.js";
import { formatAmount } from "../../shared/money.js";
import type { Chain } from "../chain/types.js";
import { principalOf } from "../kernel/context.js";
import { idempotent } from "../kernel/idempotency.js";
import { currentOperation, operationToProto } from "../operations/repo.js";
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

/** StakingService: each write is one idempotent operation for the engine; reads go to the chain. */
export function createStakingHandlers(deps: StakingHandlerDeps): Partial<Impl> {
  const { pool, chain } = deps;
  // Runs `work` once per idempotency key, as the calling principal, for RPC `name`.
  const once = async <Req extends DescMessage, Res extends DescMessage>(
    ctx: HandlerContext,
    name: string,
    schemas: [Req, Res],
    req: MessageShape<Req> & { idempotencyKey: string },
    work: (tx: DatabaseTransactionConnection, principal: string) => Promise<MessageInitShape<Res>>,
  ) => {
    const principal = principalOf(ctx).id;
    const call = { principal, method: `${StakingService.typeName}/${name}`, request: req };
    const answer = await idempotent(
      pool,
      { ...call, requestSchema: schemas[0], responseSchema: schemas[1] },
      (tx) => work(tx, principal),
    );
    // A replayed answer shows the operation as it is now, not as first stored.
    const withOp = answer as { operation?: Operation };
    withOp.operation = await currentOperation(pool, withOp.operation);
    return answer;
  };
  return {
    stake: (req, ctx) =>
      once(ctx, "Stake", [StakeRequestSchema, StakeResponseSchema], req, async (tx, principal) => {
        const input = { principal, walletId: req.walletId, amount: req.amount };
        const op = await stake(tx, chain, { ...input, resource: resourceOf(req.resource) });
        return { operation: operationToProto(op) };
      }),
    unstake: (req, ctx) =>
      once(ctx, "Unstake", [UnstakeRequestSchema, UnstakeResponseSchema], req, async (tx, p) => {
        const input = { principal: p, walletId: req.walletId, amount: req.amount };
        const r = await unstake(tx, chain, { ...input, resource: resourceOf(req.resource) });
        return {
          operation: operationToProto(r.operation),
          pendingCount: r.pendingCount,
          availableAt: timestampFromMs(r.availableAt),
        };
      }),
    delegate: (req, ctx) =>
      once(ctx, "Delegate", [DelegateRequestSchema, DelegateResponseSchema], req, async (tx, p) => {
        const period = req.lockPeriod ?? { seconds: 0n, nanos: 0 };
        const op = await delegate(
          tx,
          chain,
          {
            principal: p,
            walletId: req.walletId,
            amount: req.amount,
            resource: resourceOf(req.resource),
            receiver: req.receiverAddress,
            lockBlocks: lockBlocks(req.lock, period.seconds, period.nanos),
          },
          { policy: deps.signerPolicy, now: deps.clock() },
        );
        return { operation: operationToProto(op) };
      }),
    undelegate: (req, ctx) =>
      once(
        ctx,
        "Undelegate",
        [UndelegateRequestSchema, UndelegateResponseSchema],
        req,
        async (tx, p) => {
          const op = await undelegate(tx, chain, {
            principal: p,
            walletId: req.walletId,
            amount: req.amount,
            resource: resourceOf(req.resource),
            receiver: req.receiverAddress,
          });
          return { operation: operationToProto(op) };
        },
      ),
    withdrawUnstaked: (req, ctx) =>
      once(
        ctx,
        "WithdrawUnstaked",
        [WithdrawUnstakedRequestSchema, WithdrawUnstakedResponseSchema],
        req,
        async (tx, p) => {
          const r = await withdrawUnstaked(tx, chain, p, req.walletId);
          return { operation: operationToProto(r.operation), amount: formatAmount(r.amount) };
        },
      ),
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
