import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  type CreatePayoutBatchRequest,
  type CreatePayoutRequest,
  type PayoutBatchItem,
  PayoutBatchItemErrorsSchema,
  type PayoutService,
} from "../../gen/tronpay/v1/payout_pb.js";
import { AppError } from "../../shared/errors.js";
import type { Logger } from "../../shared/log.js";
import { principalOf } from "../kernel/context.js";
import { type WriteOptions, writeTx } from "../kernel/idempotent-writes.js";
import { checkBatchItems } from "./batch-check.js";
import { assetOf, payoutToProto, routeOf } from "./convert.js";
import {
  approvePayout,
  BatchInvalid,
  type Caller,
  cancelPayout,
  createBatch,
  createPayout,
} from "./flows.js";
import { getBatch, listPayouts, watchBatch } from "./queries.js";
import { createPayoutRepairHandlers, type RepairPayoutDeps } from "./repair-handlers.js";
import { attemptsOf, findPayout } from "./repo.js";
import { createPayoutReportHandlers, type ReportPayoutDeps } from "./report-handlers.js";
import { checkPayoutFields, type PayoutInput, type PayoutRules } from "./validate.js";

export interface PayoutHandlerDeps extends ReportPayoutDeps, RepairPayoutDeps {
  pool: DatabasePool;
  rules: PayoutRules;
  clock: () => number;
  /** The accept path logs each payout it stores. */
  log: Logger;
  /** How often WatchPayoutBatch looks for progress (ms). */
  watchIntervalMs: number;
}

type Impl = ServiceImpl<typeof PayoutService>;

/** PayoutService: thin conversions around flows.ts and queries.ts. RPCs not built yet are left out. */
export function createPayoutHandlers(deps: PayoutHandlerDeps): Partial<Impl> {
  const caller = (ctx: HandlerContext): Caller => ({
    principal: principalOf(ctx).id,
    now: deps.clock(),
  });
  return {
    async createPayout(req, ctx) {
      const who = caller(ctx);
      const row = await createPayout(
        writeTx(ctx),
        deps.rules,
        who,
        req.idempotencyKey,
        payoutInput(req),
      );
      return { payout: payoutToProto(row, []) };
    },
    async getPayout(req) {
      const row = await findPayout(deps.pool, req.id);
      if (!row)
        throw new AppError("payout.not_found", "no payout with that id", {
          metadata: { field: "id" },
        });
      return { payout: payoutToProto(row, await attemptsOf(deps.pool, [row.id])) };
    },
    listPayouts: (req) => listPayouts(deps.pool, req),
    async cancelPayout(req, ctx) {
      const tx = writeTx(ctx);
      const row = await cancelPayout(tx, caller(ctx), req.id, req.reason);
      return { payout: payoutToProto(row, await attemptsOf(tx, [row.id])) };
    },
    async approvePayout(req, ctx) {
      const row = await approvePayout(writeTx(ctx), caller(ctx), req.id, req.comment);
      return { payout: payoutToProto(row, []) };
    },
    async createPayoutBatch(req, ctx) {
      const tx = writeTx(ctx);
      const { batchId, payoutIds } = await batchErrors(() =>
        createBatch(tx, deps.rules, caller(ctx), req.idempotencyKey, batchItems(req)),
      );
      const batch = await getBatch(tx, batchId);
      return {
        batch,
        items: payoutIds.map((payoutId, i) => ({
          itemReference: req.items[i]?.itemReference ?? "",
          payoutId,
        })),
      };
    },
    async getPayoutBatch(req) {
      return { batch: await getBatch(deps.pool, req.id) };
    },
    watchPayoutBatch: (req, ctx) => watchBatch(deps.pool, req.id, deps.watchIntervalMs, ctx.signal),
    ...createPayoutReportHandlers(deps),
    ...createPayoutRepairHandlers(deps),
  };
}

/** The hooks of PayoutService's writes: what needs no database is checked before the transaction. */
export function payoutWrites(log: Logger): WriteOptions<typeof PayoutService> {
  return {
    createPayout: {
      check: (req) => checkPayoutFields(payoutInput(req)),
      // After the commit (a replay of the same key logs the same id again).
      reply: async (answer, req, ctx) => {
        const fields = { payoutId: answer.payout?.id, walletId: req.walletId };
        log.info({ ...fields, principal: principalOf(ctx).id }, "payout accepted");
        return answer;
      },
    },
    createPayoutBatch: { check: (req) => batchErrors(() => checkBatchItems(batchItems(req))) },
  };
}

/** A batch's items as domain input. */
function batchItems(req: CreatePayoutBatchRequest) {
  return req.items.map((item) => ({ reference: item.itemReference, input: payoutInput(item) }));
}

/**
 * Runs `f`, answering a BatchInvalid as payout.batch_invalid with every bad item, in our own
 * PayoutBatchItemErrors and in the standard google.rpc.BadRequest.
 */
function batchErrors<T>(f: () => T): T {
  const converted = (err: unknown) => {
    if (!(err instanceof BatchInvalid)) return err;
    return new AppError("payout.batch_invalid", err.message, {
      metadata: { field: "items", count: String(err.items.length) },
      details: [
        { desc: PayoutBatchItemErrorsSchema, value: { errors: err.items } },
        {
          desc: BadRequestSchema,
          value: {
            fieldViolations: err.items.map((item) => ({
              field: item.field || `items[${item.index}]`,
              description: item.message,
              reason: item.reason,
            })),
          },
        },
      ],
    });
  };
  try {
    const out = f();
    return out instanceof Promise ? (out.catch((err) => Promise.reject(converted(err))) as T) : out;
  } catch (err) {
    throw converted(err);
  }
}

/** A CreatePayoutRequest or batch item as domain input. */
function payoutInput(req: CreatePayoutRequest | PayoutBatchItem): PayoutInput {
  const kyc = "complianceSignature" in req ? req.complianceSignature : undefined;
  return {
    walletId: req.walletId,
    recipientAddress: req.recipient.case === "recipientAddress" ? req.recipient.value : "",
    payeeTag: req.recipient.case === "payeeTag" ? req.recipient.value : "",
    asset: req.amount ? assetOf(req.amount.asset) : "",
    amount: req.amount?.value ?? "",
    route: routeOf(req.route),
    priority: req.priority,
    memo: req.memo ?? "",
    clientReference: req.clientReference,
    metadata: { ...req.metadata },
    kycHash: req.kycHash,
    compliance: kyc
      ? {
          signature: kyc.signature,
          expiresAt: kyc.expiresAt ? timestampMs(kyc.expiresAt) : 0,
          keyId: kyc.keyId,
        }
      : undefined,
  };
}
