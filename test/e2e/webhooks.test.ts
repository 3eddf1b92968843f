import { randomBytes } from "node:crypto";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Asset } from "../../src/gen/tronpay/v1/common_pb.js";
import { PayoutRoute, PayoutService } from "../../src/gen/tronpay/v1/payout_pb.js";
import {
  WebhookDeliveryStatus,
  WebhookEndpointState,
  WebhookEventType,
  WebhookService,
} from "../../src/gen/tronpay/v1/webhook_pb.js";
import { reasonOf } from "../../src/shared/errors.js";
import { newTestAccount } from "../devnet/helpers.js";
import { fundedWallet, waitForPayout } from "../helpers/payouts.js";
import { type Stack, startStack } from "../helpers/stack.js";

/** What the receiver got: one HTTP request. */
interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** How the receiver answers the n-th request (0-based) on a path: a status, or never. */
type Behaviour = (n: number) => number | "hang";

let stack: Stack;
let receiver: Server;
let base: string;
let walletId: string;
const received: Received[] = [];
const behaviours = new Map<string, Behaviour>();
const hanging: ServerResponse[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      const n = received.filter((r) => r.path === path).length;
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, String(v)]),
      );
      received.push({ path, headers, body: Buffer.concat(chunks).toString() });
      const answer = behaviours.get(path)?.(n) ?? 200;
      if (answer === "hang") {
        hanging.push(res);
        return;
      }
      res.statusCode = answer;
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  stack = await startStack({
    coreEnv: {
      TRONPAY_WEBHOOK_SECRET_KEY: randomBytes(32).toString("base64"),
      TRONPAY_WEBHOOK_ALLOW_LOOPBACK: "true",
      TRONPAY_WEBHOOK_BACKOFF_MS: "200",
      TRONPAY_WEBHOOK_BACKOFF_MAX_MS: "1000",
      TRONPAY_WEBHOOK_TIMEOUT_MS: "2000",
      TRONPAY_WEBHOOK_RETRY_WINDOW_SEC: "10",
    },
  });
  walletId = (await fundedWallet(stack)).id;
}, 90_000);

afterAll(async () => {
  for (const res of hanging) res.destroy();
  receiver?.closeAllConnections();
  receiver?.close();
  await stack?.stop();
});

const webhooks = () => stack.client(WebhookService);

async function poll<T>(check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined); // core may be restarting
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function endpoint(path: string, types = [WebhookEventType.PAYOUT_CREATED]) {
  const res = await webhooks().createWebhookEndpoint({
    idempotencyKey: `ep-${path}-${Math.random()}`,
    url: `${base}${path}`,
    eventTypes: types,
    description: `receiver ${path}`,
  });
  return { id: res.endpoint?.id ?? "", secret: res.secret };
}

/** Creates a TRX payout (its payout.created event is what most tests wait for). */
async function payout(): Promise<string> {
  const { payout } = await stack.client(PayoutService).createPayout({
    idempotencyKey: `p-${Math.random()}`,
    walletId,
    recipient: { case: "recipientAddress", value: newTestAccount().address },
    amount: { asset: Asset.TRX, value: "1" },
    route: PayoutRoute.V0,
  });
  return payout?.id ?? "";
}

const bodyOf = (r: Received) =>
  JSON.parse(r.body) as { id: string; type: string; data: { id: string } };
const on = (path: string, payoutId?: string) =>
  received.filter((r) => r.path === path && (!payoutId || bodyOf(r).data.id === payoutId));

async function deliveriesOf(endpointId: string) {
  return (await webhooks().listWebhookDeliveries({ endpointId })).deliveries;
}

describe("webhooks end to end (devnet, signer, core and a local receiver)", () => {
  it("delivers a payout's events in order, signed so that standardwebhooks verifies them", async () => {
    const ep = await endpoint("/events", [
      WebhookEventType.PAYOUT_CREATED,
      WebhookEventType.PAYOUT_BROADCAST,
      WebhookEventType.PAYOUT_CONFIRMED,
    ]);
    expect(ep.secret).toMatch(/^whsec_/);
    const id = await payout();
    await waitForPayout(stack, id);
    const got = await poll(async () =>
      on("/events", id).length >= 3 ? on("/events", id) : undefined,
    );
    const wh = new Webhook(ep.secret);
    const types = got.map((r) => (wh.verify(r.body, r.headers) as { type: string }).type);
    expect(types).toEqual(["payout.created", "payout.broadcast", "payout.confirmed"]);
    for (const r of got) expect(r.headers["webhook-id"]).toBe(bodyOf(r).id);
    const rows = await poll(async () => {
      const d = await deliveriesOf(ep.id);
      return d.length === 3 && d.every((x) => x.status === WebhookDeliveryStatus.DELIVERED)
        ? d
        : undefined;
    });
    expect(rows.map((d) => d.lastResponseCode)).toEqual([200, 200, 200]);
  }, 90_000);

  it("retries a failing receiver with the same webhook-id until it answers 2xx", async () => {
    behaviours.set("/flaky", (n) => (n < 3 ? 500 : 200));
    const ep = await endpoint("/flaky");
    const id = await payout();
    const got = await poll(async () =>
      on("/flaky", id).length >= 4 ? on("/flaky", id) : undefined,
    );
    expect(new Set(got.map((r) => r.headers["webhook-id"])).size).toBe(1);
    const [d] = await poll(async () => {
      const ds = await deliveriesOf(ep.id);
      return ds[0]?.status === WebhookDeliveryStatus.DELIVERED ? ds : undefined;
    });
    expect(d?.attemptCount).toBe(4);
    expect(d?.lastResponseCode).toBe(200);
    const { endpoint: after } = await webhooks().getWebhookEndpoint({ id: ep.id });
    expect(after?.consecutiveFailures).toBe(0);
    expect(after?.lastSuccessAt).toBeDefined();
  }, 60_000);

  it("loses no event when core is killed -9 in the middle of a delivery", async () => {
    behaviours.set("/crash", (n) => (n === 0 ? "hang" : 200));
    const ep = await endpoint("/crash");
    const id = await payout();
    await poll(async () => (on("/crash", id).length === 1 ? true : undefined));
    await stack.restartCore();
    const got = await poll(async () =>
      on("/crash", id).length >= 2 ? on("/crash", id) : undefined,
    );
    expect(got[1]?.headers["webhook-id"]).toBe(got[0]?.headers["webhook-id"]);
    const wh = new Webhook(ep.secret);
    expect(() => wh.verify(got[1]?.body ?? "", got[1]?.headers ?? {})).not.toThrow();
    await poll(async () => {
      const ds = await deliveriesOf(ep.id);
      return ds[0]?.status === WebhookDeliveryStatus.DELIVERED ? true : undefined;
    });
  }, 90_000);

  it("signs with both secrets during a rotation's overlap, and only the new one after", async () => {
    const ep = await endpoint("/rotate");
    const rotated = await webhooks().rotateWebhookSecret({
      idempotencyKey: `rot-${Math.random()}`,
      id: ep.id,
      overlap: create(DurationSchema, { seconds: 3600n }),
    });
    expect(rotated.secret).not.toBe(ep.secret);
    const first = await payout();
    const [during] = await poll(async () =>
      on("/rotate", first).length ? on("/rotate", first) : undefined,
    );
    for (const secret of [ep.secret, rotated.secret]) {
      expect(() =>
        new Webhook(secret).verify(during?.body ?? "", during?.headers ?? {}),
      ).not.toThrow();
    }
    const again = await webhooks().rotateWebhookSecret({
      idempotencyKey: `rot-${Math.random()}`,
      id: ep.id,
      overlap: create(DurationSchema, { seconds: 0n }),
    });
    const second = await payout();
    const [after] = await poll(async () =>
      on("/rotate", second).length ? on("/rotate", second) : undefined,
    );
    expect(() =>
      new Webhook(again.secret).verify(after?.body ?? "", after?.headers ?? {}),
    ).not.toThrow();
    expect(() =>
      new Webhook(rotated.secret).verify(after?.body ?? "", after?.headers ?? {}),
    ).toThrow();
  }, 60_000);

  it("redelivers one delivery, and an endpoint's failed deliveries after retries ran out", async () => {
    behaviours.set("/down", () => 503);
    const ep = await endpoint("/down");
    const id = await payout();
    const [failed] = await poll(async () => {
      const ds = await deliveriesOf(ep.id);
      return ds[0]?.status === WebhookDeliveryStatus.FAILED ? ds : undefined;
    });
    const { endpoint: failing } = await webhooks().getWebhookEndpoint({ id: ep.id });
    expect(failing?.state).toBe(WebhookEndpointState.FAILING);
    behaviours.set("/down", () => 200);
    const before = on("/down", id).length;
    const all = await webhooks().redeliverWebhook({
      idempotencyKey: `re-${Math.random()}`,
      target: { case: "endpointId", value: ep.id },
    });
    expect(all.scheduledCount).toBe(1);
    await poll(async () => {
      const ds = await deliveriesOf(ep.id);
      return ds[0]?.status === WebhookDeliveryStatus.DELIVERED ? true : undefined;
    });
    const { endpoint: healthy } = await webhooks().getWebhookEndpoint({ id: ep.id });
    expect(healthy?.state).toBe(WebhookEndpointState.ACTIVE);
    const one = await webhooks().redeliverWebhook({
      idempotencyKey: `re-${Math.random()}`,
      target: { case: "deliveryId", value: failed?.id ?? "" },
    });
    expect(one.scheduledCount).toBe(1);
    const got = await poll(async () =>
      on("/down", id).length >= before + 2 ? on("/down", id) : undefined,
    );
    expect(new Set(got.map((r) => r.headers["webhook-id"])).size).toBe(1);
  }, 60_000);

  it("disables an endpoint that answers 410 Gone", async () => {
    behaviours.set("/gone", () => 410);
    const ep = await endpoint("/gone");
    const id = await payout();
    const { endpoint: after } = await poll(async () => {
      const r = await webhooks().getWebhookEndpoint({ id: ep.id });
      return r.endpoint?.state === WebhookEndpointState.DISABLED ? r : undefined;
    });
    expect(after?.state).toBe(WebhookEndpointState.DISABLED);
    const [d] = await deliveriesOf(ep.id);
    expect(d?.status).toBe(WebhookDeliveryStatus.FAILED);
    expect(d?.lastResponseCode).toBe(410);
    expect(on("/gone", id)).toHaveLength(1);
  }, 60_000);

  it("refuses an endpoint on a private address", async () => {
    let reason: string | undefined;
    try {
      await webhooks().createWebhookEndpoint({
        idempotencyKey: "ep-private",
        url: "https://10.0.0.1/hook",
        eventTypes: [WebhookEventType.PAYOUT_CREATED],
      });
    } catch (err) {
      reason = reasonOf(err);
    }
    expect(reason).toBe("webhook.destination_refused");
  });
});
