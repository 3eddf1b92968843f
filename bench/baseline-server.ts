/**
 * The baseline for CreatePayout: a minimal fastify handler (its own process, like core) running
 * the same durable transaction — idempotency record, payout, audit row and outbox event — with
 * core's own flow on the same database, but without Connect, auth or interceptors. What core
 * adds on top is what the benchmark's fraction measures.
 *
 *   DATABASE_URL=… node --import tsx bench/baseline-server.ts   (prints {"port":…})
 */
import { create, toJson } from "@bufbuild/protobuf";
import Fastify from "fastify";
import { openDatabase } from "../src/core/db/pool.js";
import { idempotent } from "../src/core/idempotency.js";
import { payoutToProto } from "../src/core/payouts/convert.js";
import { createPayout } from "../src/core/payouts/flows.js";
import type { PayoutRules } from "../src/core/payouts/validate.js";
import { Asset } from "../src/gen/tronpay/v1/common_pb.js";
import {
  CreatePayoutRequestSchema,
  CreatePayoutResponseSchema,
  PayoutRoute,
} from "../src/gen/tronpay/v1/payout_pb.js";

const BIG = 10n ** 15n;
const rules: PayoutRules = {
  limits: {
    V0: { maxPerPayout: BIG, maxPerDay: BIG },
    KYC: { maxPerPayout: BIG, maxPerDay: BIG },
    DIRECT: { maxPerPayout: BIG, maxPerDay: BIG },
  },
  approvalThreshold: BIG,
  complianceKeys: undefined,
};

interface Body {
  idempotencyKey: string;
  walletId: string;
  recipientAddress: string;
  value: string;
}

const pool = await openDatabase(String(process.env.DATABASE_URL), 10);
const app = Fastify({ logger: false });
app.post<{ Body: Body }>("/payouts", async (req) => {
  const b = req.body;
  const request = create(CreatePayoutRequestSchema, {
    idempotencyKey: b.idempotencyKey,
    walletId: b.walletId,
    recipient: { case: "recipientAddress", value: b.recipientAddress },
    amount: { asset: Asset.USDT, value: b.value },
    route: PayoutRoute.V0,
  });
  const caller = { principal: "bench-baseline", now: Date.now() };
  const res = await idempotent(
    pool,
    {
      principal: caller.principal,
      method: "baseline/CreatePayout",
      requestSchema: CreatePayoutRequestSchema,
      request,
      responseSchema: CreatePayoutResponseSchema,
    },
    async (tx) => {
      const row = await createPayout(tx, rules, caller, b.idempotencyKey, {
        walletId: b.walletId,
        recipientAddress: b.recipientAddress,
        payeeTag: "",
        asset: "USDT",
        amount: b.value,
        route: "V0",
        priority: 0,
        memo: "",
        clientReference: "",
        metadata: {},
        kycHash: "",
      });
      return { payout: payoutToProto(row, []) };
    },
  );
  return toJson(CreatePayoutResponseSchema, res);
});
await app.listen({ host: "127.0.0.1", port: 0 });
const address = app.server.address();
console.log(
  JSON.stringify({ msg: "baseline ready", port: typeof address === "object" ? address?.port : 0 }),
);
