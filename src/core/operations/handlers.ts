import type { ServiceImpl } from "@connectrpc/connect";
import { type CommonQueryMethods, type DatabasePool, sql } from "slonik";
import type { OperationService } from "../../gen/tronpay/v1/operation_pb.js";
import { AppError } from "../../shared/errors.js";
import { transition } from "../engine/repo.js";
import { type OperationState, UNSIGNED_STATES } from "../engine/state.js";
import { principalOf } from "../kernel/context.js";
import { type WriteOptions, writeTx } from "../kernel/idempotent-writes.js";
import { cancelPayout } from "../payouts/flows.js";
import { isPayoutKind } from "./kinds.js";
import {
  findOperation,
  type OperationView,
  operationToProto,
  withCurrentOperation,
} from "./repo.js";
import { OperationRecord } from "./row.js";

export interface OperationHandlerDeps {
  pool: DatabasePool;
  clock: () => number;
}

const notFound = () =>
  new AppError("request.not_found", "no operation with that id", { metadata: { field: "id" } });

/** The operation, or request.not_found. */
async function mustFind(db: CommonQueryMethods, id: string): Promise<OperationView> {
  const row = id === "" ? null : await findOperation(db, id);
  if (!row) throw notFound();
  return row;
}

/**
 * Cancels an operation that nothing has been signed for yet, under its row lock. A payout (of
 * any payout kind) is cancelled the payout way, recording its cancel reason.
 */
async function cancelOperation(
  tx: CommonQueryMethods & Parameters<typeof cancelPayout>[0],
  caller: { principal: string; now: number },
  id: string,
  reason: string,
): Promise<OperationView> {
  const locked = await tx.maybeOne(
    sql.type(
      OperationRecord.pick({ kind: true }),
    )`SELECT kind FROM operations WHERE id = ${id} FOR UPDATE`,
  );
  if (!locked) throw notFound();
  if (isPayoutKind(locked.kind)) {
    await cancelPayout(tx, caller, id, reason);
    return mustFind(tx, id);
  }
  const op = await mustFind(tx, id);
  const state = op.state as OperationState;
  if (!UNSIGNED_STATES.includes(state)) {
    throw new AppError("payout.invalid_state", `a ${state} operation can no longer be cancelled`, {
      metadata: { state },
    });
  }
  await transition(tx, op, state, "CANCELLED", {}, caller.principal, { reason }, "operator");
  return mustFind(tx, id);
}

/** OperationService: read and cancel any engine operation. */
export function createOperationHandlers(
  deps: OperationHandlerDeps,
): Partial<ServiceImpl<typeof OperationService>> {
  return {
    async getOperation(req) {
      if (req.id === "")
        throw new AppError("request.invalid", "id is required", { metadata: { field: "id" } });
      return { operation: operationToProto(await mustFind(deps.pool, req.id)) };
    },
    async cancelOperation(req, ctx) {
      const principal = principalOf(ctx).id;
      const caller = { principal, now: deps.clock() };
      const op = await cancelOperation(writeTx(ctx), caller, req.id, req.reason);
      return { operation: operationToProto(op) };
    },
  };
}

/** The hooks of CancelOperation: its checks, and the operation as it is now in every answer. */
export function operationWrites(pool: DatabasePool): WriteOptions<typeof OperationService> {
  return {
    cancelOperation: {
      check(req) {
        if (req.id === "")
          throw new AppError("request.invalid", "id is required", { metadata: { field: "id" } });
        if (req.reason.length > 500)
          throw new AppError("request.invalid", "reason must be at most 500 characters", {
            metadata: { field: "reason" },
          });
      },
      reply: withCurrentOperation(pool),
    },
  };
}
