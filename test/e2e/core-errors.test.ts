import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEdge } from "../../src/edge/main.js";
import { BadRequestSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { AdminService } from "../../src/gen/tronpay/v1/admin_pb.js";
import { Asset } from "../../src/gen/tronpay/v1/common_pb.js";
import { Role } from "../../src/gen/tronpay/v1/options_pb.js";
import { PayeeService } from "../../src/gen/tronpay/v1/payee_pb.js";
import {
  ExportFormat,
  PayoutRoute,
  PayoutService,
  type PayoutState,
} from "../../src/gen/tronpay/v1/payout_pb.js";
import { WalletPurpose, WalletService } from "../../src/gen/tronpay/v1/wallet_pb.js";
import { WebhookService } from "../../src/gen/tronpay/v1/webhook_pb.js";
import { reasonOf } from "../../src/shared/errors.js";
import { createLogger } from "../../src/shared/log.js";
import { newTestAccount, waitFor } from "../devnet/helpers.js";
import { type Stack, startStack } from "../helpers/stack.js";

/**
 * Core answers bad input and failures with their real code and reason: errors raised inside
 * server-streaming RPCs over Connect, gRPC and REST (through the edge), and text, ids and enum
 * values that fail the request checks as request.invalid before any database work.
 */
let stack: Stack;
/** Batch items per minute per principal in this core: one full batch and no more. */
const BATCH_BUDGET = 1000;
let edge: Awaited<ReturnType<typeof runEdge>>;

beforeAll(async () => {
  stack = await startStack({ coreEnv: { TRONPAY_RATE_BATCH_ITEMS_PER_MIN: String(BATCH_BUDGET) } });
  edge = await runEdge(
    [],
    { TRONPAY_CORE_URL: stack.coreUrl, TRONPAY_EDGE_HOST: "127.0.0.1", TRONPAY_EDGE_PORT: "0" },
    { log: createLogger({ name: "edge", level: "silent" }) },
  );
}, 90_000);

afterAll(async () => {
  await edge?.stop();
  await stack?.stop();
});

function client(protocol: "connect" | "grpc") {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${stack.adminKey}`);
    return next(req);
  };
  const options = { httpVersion: "2" as const, baseUrl: stack.coreUrl, interceptors: [auth] };
  return createClient(
    PayoutService,
    protocol === "grpc" ? createGrpcTransport(options) : createConnectTransport(options),
  );
}

async function drain(stream: AsyncIterable<unknown>): Promise<ConnectError> {
  try {
    for await (const _ of stream) {
      // a refused stream yields nothing
    }
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the stream ended without an error");
}

/** Core's "rpc" log line for `method` with the request id the client sent. */
function rpcLine(method: string, requestId: string) {
  return waitFor(() =>
    stack.core.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === "rpc" && l.method === method && l.request_id === requestId),
  );
}

const cases = [
  {
    rpc: "WatchPayoutBatch",
    call: (c: ReturnType<typeof client>, headers: Record<string, string>) =>
      c.watchPayoutBatch({ id: "pb_does_not_exist" }, { headers }),
    code: Code.NotFound,
    reason: "request.not_found",
  },
  {
    rpc: "ExportPayouts",
    call: (c: ReturnType<typeof client>, headers: Record<string, string>) =>
      c.exportPayouts({ format: ExportFormat.CSV }, { headers }),
    code: Code.InvalidArgument,
    reason: "request.invalid",
  },
];

describe("errors inside server streams", () => {
  for (const protocol of ["connect", "grpc"] as const) {
    for (const c of cases) {
      it(`answers ${c.rpc} ${Code[c.code]} with its reason over ${protocol}, and core logs that code`, async () => {
        const requestId = `stream-${protocol}-${c.rpc}`;
        const err = await drain(c.call(client(protocol), { "x-request-id": requestId }));
        expect(Code[err.code]).toBe(Code[c.code]);
        expect(reasonOf(err)).toBe(c.reason);
        const line = await rpcLine(`tronpay.v1.PayoutService/${c.rpc}`, requestId);
        expect(line.code).toBe(Code[c.code]);
      });
    }
  }

  it("answers them over REST through the edge with their HTTP status and reason", async () => {
    const get = (path: string) =>
      fetch(`${edge.url}${path}`, { headers: { authorization: `Bearer ${stack.adminKey}` } });
    const watch = await get("/v1/payout-batches/pb_does_not_exist:watch");
    expect(watch.status).toBe(404);
    const watchBody = (await watch.json()) as { details?: { reason?: string }[] };
    expect(watchBody.details?.[0]?.reason).toBe("request.not_found");
    const exported = await get("/v1/payouts:export?format=EXPORT_FORMAT_CSV");
    expect(exported.status).toBe(400);
    const exportBody = (await exported.json()) as { details?: { reason?: string }[] };
    expect(exportBody.details?.[0]?.reason).toBe("request.invalid");
  });
});

/** The reason and field of a refused call; fails the test when the call succeeds. */
async function refusal(call: Promise<unknown>) {
  const err = await call.then(
    () => {
      throw new Error("the call succeeded");
    },
    (e: unknown) => ConnectError.from(e),
  );
  return {
    code: Code[err.code],
    reason: reasonOf(err),
    fields: err.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field)),
  };
}

describe("bad input in core", () => {
  const payouts = () => client("connect");
  const recipient = { case: "recipientAddress" as const, value: newTestAccount().address };
  const payout = (patch: Record<string, unknown>) => ({
    idempotencyKey: `bad-${Math.random()}`,
    walletId: "wal_none",
    recipient,
    amount: { asset: Asset.TRX, value: "1" },
    route: PayoutRoute.V0,
    ...patch,
  });

  it("answers an id with a NUL character request.invalid, over Connect and gRPC", async () => {
    for (const protocol of ["connect", "grpc"] as const) {
      expect(await refusal(client(protocol).getPayout({ id: "po_x\u0000" }))).toEqual({
        code: "InvalidArgument",
        reason: "request.invalid",
        fields: ["id"],
      });
    }
  });

  it("answers an enum value the enum does not define request.invalid", async () => {
    const states = [99 as PayoutState];
    expect(await refusal(payouts().listPayouts({ states }))).toEqual({
      code: "InvalidArgument",
      reason: "request.invalid",
      fields: ["states[0]"],
    });
  });

  it("answers NUL characters in any service's text fields request.invalid", async () => {
    const nul = "a\u0000b";
    const calls: [() => Promise<unknown>, string][] = [
      [() => payouts().createPayout(payout({ memo: nul })), "memo"],
      [() => payouts().createPayout(payout({ clientReference: nul })), "client_reference"],
      [
        () =>
          stack
            .client(WalletService)
            .createWallet({ idempotencyKey: "w-nul", label: nul, purpose: WalletPurpose.PAYOUT }),
        "label",
      ],
      [
        () =>
          stack.client(PayeeService).createPayee({
            idempotencyKey: "pe-nul",
            tag: "nul-payee",
            displayName: nul,
            address: newTestAccount().address,
          }),
        "display_name",
      ],
      [
        () =>
          stack.client(WebhookService).createWebhookEndpoint({
            idempotencyKey: "we-nul",
            url: "https://127.0.0.1/hook",
            description: nul,
          }),
        "description",
      ],
    ];
    for (const [call, field] of calls) {
      expect(await refusal(call()), field).toEqual({
        code: "InvalidArgument",
        reason: "request.invalid",
        fields: [field],
      });
    }
  });

  it("caps free-text fields, a batch item's reference included, before any database work", async () => {
    const items = Array.from({ length: 3 }, (_, i) => ({
      itemReference: i === 1 ? "r".repeat(900_000) : `item-${i}`,
      walletId: "wal_none",
      recipient,
      amount: { asset: Asset.TRX, value: "1" },
      route: PayoutRoute.V0,
    }));
    expect(
      await refusal(payouts().createPayoutBatch({ idempotencyKey: "batch-long", items })),
    ).toEqual({
      code: "InvalidArgument",
      reason: "request.invalid",
      fields: ["items[1].item_reference"],
    });
    const usdtMemo = await refusal(payouts().createPayout(payout({ memo: "m".repeat(201) })));
    expect(usdtMemo.fields).toEqual(["memo"]);
  });
});

describe("batches", () => {
  const recipient = () => ({ case: "recipientAddress" as const, value: newTestAccount().address });
  const items = (n: number, bad?: number) =>
    Array.from({ length: n }, (_, i) => ({
      itemReference: `item-${i}`,
      walletId: "wal_none",
      recipient: recipient(),
      amount: { asset: Asset.TRX, value: i === bad ? "-1" : "1" },
      route: PayoutRoute.V0,
    }));

  it("refuses a bad item among a thousand from the request alone, before any database work", async () => {
    // While payouts are paused the flow's first database read answers payout.paused: a field
    // error in the answer shows the items were checked before that read.
    const admin = stack.client(AdminService);
    await admin.pausePayouts({ idempotencyKey: "pause-batch", reason: "batch check" });
    try {
      const batch = items(1000, 999);
      const err = ConnectError.from(
        await client("connect")
          .createPayoutBatch({ idempotencyKey: "batch-999-1", items: batch })
          .catch((e) => e),
      );
      expect(reasonOf(err)).toBe("payout.batch_invalid");
      const fields = err
        .findDetails(BadRequestSchema)
        .flatMap((d) => d.fieldViolations.map((v) => v.field));
      expect(fields).toEqual(["items[999].amount.value"]);
    } finally {
      await admin.resumePayouts({ idempotencyKey: "resume-batch" });
    }
  });

  it("counts batch items against a per-principal budget of their own", async () => {
    const { key } = await stack.client(AdminService).createApiKey({
      idempotencyKey: "key-batcher",
      name: "batcher",
      roles: [Role.OPERATOR],
    });
    const payouts = stack.client(PayoutService, key);
    // The first full batch fits the budget (and fails on its unknown wallet, in the database).
    const first = await refusal(
      payouts.createPayoutBatch({ idempotencyKey: "budget-1", items: items(BATCH_BUDGET) }),
    );
    expect(first.reason).toBe("payout.batch_invalid");
    const second = ConnectError.from(
      await payouts
        .createPayoutBatch({ idempotencyKey: "budget-2", items: items(1) })
        .catch((e) => e),
    );
    expect(reasonOf(second)).toBe("auth.rate_limited");
    expect(Number(second.metadata.get("retry-after"))).toBeGreaterThan(0);
    // Other writes of the same principal are not held back by it.
    const single = await refusal(
      payouts.createPayout({
        idempotencyKey: "after-budget",
        walletId: "wal_none",
        recipient: recipient(),
        amount: { asset: Asset.TRX, value: "1" },
        route: PayoutRoute.V0,
      }),
    );
    expect(single.reason).toBe("request.not_found");
  });
});
