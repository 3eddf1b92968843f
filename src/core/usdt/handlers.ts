import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import type { Operation } from "../../gen/tronpay/v1/common_pb.js";
import type { Payout } from "../../gen/tronpay/v1/payout_pb.js";
import type { UsdtService } from "../../gen/tronpay/v1/usdt_pb.js";
import { normalizeAddress } from "../../shared/address.js";
import { formatAmount, parseAmount } from "../../shared/money.js";
import type { Chain } from "../chain/types.js";
import { listTransferPage } from "../incoming/queries.js";
import { principalOf } from "../kernel/context.js";
import { type WriteOptions, writeTx } from "../kernel/idempotent-writes.js";
import {
  currentOperation,
  findOperation,
  type OperationView,
  operationToProto,
} from "../operations/repo.js";
import { payoutToProto, routeOf } from "../payouts/convert.js";
import { attemptsOf, findPayout } from "../payouts/repo.js";
import type { PayoutRules } from "../payouts/validate.js";
import { approveUsdt, transferUsdt } from "./flows.js";

export interface UsdtHandlerDeps {
  pool: DatabasePool;
  chain: Chain;
  rules: PayoutRules;
  clock: () => number;
}

type Impl = ServiceImpl<typeof UsdtService>;

/** The hooks of UsdtService's writes: a replayed answer shows the operation and payout as they are now. */
export function usdtWrites(pool: DatabasePool): WriteOptions<typeof UsdtService> {
  const current = async <A extends { operation?: Operation; payout?: Payout }>(answer: A) => {
    answer.operation = await currentOperation(pool, answer.operation);
    if (answer.payout) {
      const row = await findPayout(pool, answer.payout.id);
      if (row) answer.payout = payoutToProto(row, await attemptsOf(pool, [row.id]));
    }
    return answer;
  };
  return { transfer: { reply: current }, approve: { reply: current } };
}

/** UsdtService: transfers and approves are engine operations; reads go to the chain or follower. */
export function createUsdtHandlers(deps: UsdtHandlerDeps): Partial<Impl> {
  const { pool, chain } = deps;
  const caller = (ctx: HandlerContext) => ({ principal: principalOf(ctx).id, now: deps.clock() });
  return {
    async getBalance(req) {
      const address = normalizeAddress(req.address);
      const [balance, head] = await Promise.all([chain.usdtBalance(address), chain.head()]);
      return { address, balance: formatAmount(balance), blockNumber: head.number };
    },
    async transfer(req, ctx) {
      const tx = writeTx(ctx);
      const payout = await transferUsdt(tx, deps.rules, caller(ctx), req.idempotencyKey, {
        walletId: req.walletId,
        recipientAddress: req.toAddress,
        amount: req.amount,
        route: routeOf(req.route),
        priority: req.priority,
        memo: req.memo ?? "",
        clientReference: req.clientReference,
      });
      const op = (await findOperation(tx, payout.id)) as OperationView;
      return { operation: operationToProto(op), payout: payoutToProto(payout, []) };
    },
    async approve(req, ctx) {
      const stored = await approveUsdt(writeTx(ctx), deps.rules, caller(ctx), req.idempotencyKey, {
        walletId: req.walletId,
        spender: req.spenderAddress,
        amount: req.amount,
      });
      return {
        operation: operationToProto(stored.operation),
        payout: stored.payout ? payoutToProto(stored.payout, []) : undefined,
      };
    },
    async getAllowance(req) {
      const owner = normalizeAddress(req.ownerAddress, "owner_address");
      const spender = normalizeAddress(req.spenderAddress, "spender_address");
      const [allowance, head] = await Promise.all([
        chain.usdtAllowance(owner, spender),
        chain.head(),
      ]);
      return { allowance: formatAmount(allowance), blockNumber: head.number };
    },
    async estimateEnergy(req) {
      const from = normalizeAddress(req.fromAddress, "from_address");
      const to = normalizeAddress(req.toAddress, "to_address");
      const amount = parseAmount(req.amount);
      const [estimate, balances, params] = await Promise.all([
        chain.estimateUsdtTransfer(from, to, amount),
        chain.balances(from),
        chain.chainParameters(),
      ]);
      const left = balances.energy.limit - balances.energy.used;
      const available = left > 0n ? left : 0n;
      const uncovered = estimate.energy > available ? estimate.energy - available : 0n;
      return {
        energy: estimate.energy,
        recipientHoldsUsdt: estimate.recipientHoldsUsdt,
        energyAvailable: available,
        trxToBurn: formatAmount(uncovered * params.energyFeeSun),
        energyFeeSun: params.energyFeeSun,
      };
    },
    async listTransfers(req) {
      const page = await listTransferPage(pool, {
        address: req.address,
        direction: req.direction,
        startMs: req.range?.startTime ? timestampMs(req.range.startTime) : undefined,
        endMs: req.range?.endTime ? timestampMs(req.range.endTime) : undefined,
        pageSize: req.page?.pageSize ?? 0,
        pageToken: req.page?.pageToken ?? "",
        assets: ["USDT"],
      });
      return {
        transfers: page.rows.map((t) => ({
          txId: t.tx_id,
          logIndex: t.log_index,
          blockNumber: t.block_number,
          blockTime: timestampFromMs(t.block_time),
          fromAddress: t.from_address,
          toAddress: t.to_address,
          amount: formatAmount(BigInt(t.amount)),
        })),
        page: { nextPageToken: page.nextPageToken },
      };
    },
  };
}
