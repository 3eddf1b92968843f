import { isMessage } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { CreatePayoutBatchRequestSchema } from "../../gen/tronpay/v1/payout_pb.js";
import type { RateLimits } from "../../shared/rate-limit.js";
import { principalKey } from "../kernel/context.js";

/**
 * Counts each CreatePayoutBatch's items against the caller's batch budget
 * (TRONPAY_RATE_BATCH_ITEMS_PER_MIN) before the handler runs: a batch is up to a thousand
 * writes, so the per-method write limit alone lets one principal keep the database busy.
 * Inside authentication (it needs the principal) and the request checks.
 */
export function createBatchBudgetInterceptor(limits: RateLimits): Interceptor {
  return (next) => async (req) => {
    const principal = req.contextValues.get(principalKey);
    if (!req.stream && principal && isMessage(req.message, CreatePayoutBatchRequestSchema))
      await limits.consumeBatch(principal.id, Math.max(req.message.items.length, 1));
    return next(req);
  };
}
