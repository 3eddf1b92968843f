import { createClient, createRouterTransport } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { principalKey } from "../../src/core/kernel/context.js";
import { idempotentWrites } from "../../src/core/kernel/idempotent-writes.js";
import {
  createPayoutHandlers,
  type PayoutHandlerDeps,
  payoutWrites,
} from "../../src/core/payouts/handlers.js";
import { Asset } from "../../src/gen/tronpay/v1/common_pb.js";
import { PayoutRoute, PayoutService } from "../../src/gen/tronpay/v1/payout_pb.js";
import { systemClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/log.js";
import { newTestAccount } from "../devnet/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { insertPayoutWallet, USDT, uniformRules } from "../helpers/payout-db.js";

const wallet = { id: "wal_log", address: newTestAccount().address };
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await insertPayoutWallet(db, wallet);
});
afterAll(async () => {
  await db?.drop();
});

describe("the accept path's log", () => {
  it("logs one info line with the payout id when CreatePayout stores a payout", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({
      name: "t",
      level: "info",
      destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    });
    const deps = {
      pool: db.pool,
      rules: uniformRules(1_000n * USDT, 10_000n * USDT, 1_000n * USDT),
      clock: systemClock,
      log,
      watchIntervalMs: 100,
    } as unknown as PayoutHandlerDeps;
    const transport = createRouterTransport(
      (router) =>
        router.service(
          PayoutService,
          idempotentWrites(db.pool, PayoutService, createPayoutHandlers(deps), payoutWrites(log)),
        ),
      {
        router: {
          interceptors: [
            (next) => (req) => {
              req.contextValues.set(principalKey, { id: "key:logger", roles: [] });
              return next(req);
            },
          ],
        },
      },
    );
    const { payout } = await createClient(PayoutService, transport).createPayout({
      idempotencyKey: "log-1",
      walletId: wallet.id,
      recipient: { case: "recipientAddress", value: newTestAccount().address },
      amount: { asset: Asset.USDT, value: "1" },
      route: PayoutRoute.V0,
    });
    expect(payout?.id).toMatch(/^po_/);
    const accepted = lines.filter((l) => l.msg === "payout accepted");
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({
      level: 30,
      payoutId: payout?.id,
      principal: "key:logger",
      walletId: wallet.id,
    });
  });
});
