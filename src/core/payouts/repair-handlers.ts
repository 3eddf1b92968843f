import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { PayoutDiscrepancyKind, type PayoutService } from "../../gen/tronpay/v1/payout_pb.js";
import type { Chain } from "../chain/types.js";
import { principalOf } from "../kernel/context.js";
import { writeTx } from "../kernel/idempotent-writes.js";
import { payoutToProto } from "./convert.js";
import { reconcilePayout } from "./reconcile.js";
import { attemptsOf } from "./repo.js";
import { retryPayout } from "./retry.js";
import type { PayoutRules } from "./validate.js";

export interface RepairPayoutDeps {
  chain: Chain;
  rules: PayoutRules;
  clock: () => number;
}

type Impl = ServiceImpl<typeof PayoutService>;

/** Retry and reconcile: an operator's repairs of one payout, each an idempotent write. */
export function createPayoutRepairHandlers(deps: RepairPayoutDeps): Partial<Impl> {
  const who = (ctx: HandlerContext) => ({ principal: principalOf(ctx).id, now: deps.clock() });
  return {
    async retryPayout(req, ctx) {
      const tx = writeTx(ctx);
      const row = await retryPayout(tx, deps.rules, who(ctx), req.id);
      return { payout: payoutToProto(row, await attemptsOf(tx, [row.id])) };
    },
    async reconcilePayout(req, ctx) {
      const tx = writeTx(ctx);
      const caller = who(ctx);
      const r = await reconcilePayout(tx, deps.chain, caller.principal, req.id);
      return {
        payout: payoutToProto(r.payout, await attemptsOf(tx, [r.payout.id])),
        discrepancies: r.discrepancies.map((d) => ({
          ...d,
          kind: PayoutDiscrepancyKind[d.kind],
        })),
        solidifiedBlockNumber: r.solidifiedBlock,
        checkedAt: timestampFromMs(caller.now),
      };
    },
  };
}
