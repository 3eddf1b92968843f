import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { ChaosStack } from "../chaos/stack.js";
import { Asset } from "../src/gen/tronpay/v1/common_pb.js";
import {
  type CreatePayoutRequest,
  CreatePayoutRequestSchema,
  CreatePayoutResponseSchema,
  PayoutRoute,
  PayoutService,
} from "../src/gen/tronpay/v1/payout_pb.js";
import { toBase58 } from "../src/shared/address.js";

/** A CreatePayout caller: i makes the idempotency key (and so the payout) unique. */
export type Caller = (i: number) => Promise<void>;

/** Every payout goes to this address: the recipient does not change the cost. */
export const RECIPIENT = toBase58(
  Uint8Array.from([0x41, ...Array.from({ length: 20 }, (_, i) => i + 1)]),
);
const AMOUNT = "0.000001";

function request(key: string, walletId: string): CreatePayoutRequest {
  return create(CreatePayoutRequestSchema, {
    idempotencyKey: key,
    walletId,
    recipient: { case: "recipientAddress", value: RECIPIENT },
    amount: { asset: Asset.USDT, value: AMOUNT },
    route: PayoutRoute.V0,
  });
}

/** Connect (HTTP/2, binary) straight to core. */
export function connectCaller(stack: ChaosStack, walletId: string, tag: string): Caller {
  const client = stack.client(PayoutService, stack.coreUrls[0] ?? "");
  return async (i) => {
    await client.createPayout(request(`${tag}-${i}`, walletId), { timeoutMs: 30_000 });
  };
}

/** gRPC with @grpc/grpc-js (another implementation than ours) straight to core. */
export function grpcCaller(
  stack: ChaosStack,
  walletId: string,
  tag: string,
): { call: Caller; close(): void } {
  const target = new URL(stack.coreUrls[0] ?? "").host;
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${stack.adminKey}`);
  const path = `/${PayoutService.typeName}/CreatePayout`;
  const call: Caller = (i) =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        path,
        (m: CreatePayoutRequest) => Buffer.from(toBinary(CreatePayoutRequestSchema, m)),
        (b: Buffer) => fromBinary(CreatePayoutResponseSchema, b),
        request(`${tag}-${i}`, walletId),
        metadata,
        { deadline: Date.now() + 30_000 },
        (err) => (err ? reject(err) : resolve()),
      );
    });
  return { call, close: () => client.close() };
}

/** REST (JSON over HTTP/1.1) through the edge, with the Idempotency-Key header. */
export function restCaller(stack: ChaosStack, walletId: string, tag: string): Caller {
  return async (i) => {
    const res = await fetch(`${stack.edgeUrl}/v1/payouts`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${stack.adminKey}`,
        "content-type": "application/json",
        "idempotency-key": `${tag}-${i}`,
      },
      body: JSON.stringify({
        walletId,
        recipientAddress: RECIPIENT,
        amount: { asset: "ASSET_USDT", value: AMOUNT },
        route: "PAYOUT_ROUTE_V0",
      }),
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`edge answered ${res.status}`);
  };
}

/** A route of the bare handler (bench/bare-server.ts): an empty POST, the server makes the id. */
export function bareCaller(url: string, route: string): Caller {
  return async () => {
    const res = await fetch(`${url}${route}`, { method: "POST" });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`bare handler answered ${res.status}`);
  };
}
