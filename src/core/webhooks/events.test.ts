import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { WebhookEventType } from "../../gen/tronpay/v1/webhook_pb.js";
import { backoffMs } from "./deliver.js";
import { eventTypeName, eventTypeOf, publicTypeOf } from "./events.js";

describe("webhook event types", () => {
  it("names every subscribable enum value and maps the name back", () => {
    const values = Object.values(WebhookEventType).filter(
      (v): v is WebhookEventType => typeof v === "number" && v !== WebhookEventType.UNSPECIFIED,
    );
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) {
      const name = eventTypeName(v);
      expect(name, WebhookEventType[v]).toBeDefined();
      expect(eventTypeOf(name ?? "")).toBe(v);
    }
  });

  it("names each value as webhook.proto's comment on it does", () => {
    const proto = readFileSync(
      new URL("../../../proto/tronpay/v1/webhook.proto", import.meta.url),
      "utf8",
    );
    const commented = [
      ...proto.matchAll(/\/\/ "([a-z_.]+)".*\n\s*WEBHOOK_EVENT_TYPE_(\w+) = \d+;/g),
    ];
    expect(commented).toHaveLength(Object.keys(WebhookEventType).length / 2 - 1);
    for (const [, name, value] of commented) {
      expect(eventTypeName(WebhookEventType[value as keyof typeof WebhookEventType]), value).toBe(
        name,
      );
    }
  });

  it("publishes the issue's event types under their own names and keeps internal types private", () => {
    for (const t of [
      "payout.created",
      "payout.approved",
      "payout.signed",
      "payout.broadcast",
      "payout.confirmed",
      "payout.failed",
      "payout.cancelled",
      "batch.created",
      "batch.completed",
      "wallet.low_balance",
      "node.unreachable",
    ]) {
      expect(publicTypeOf(t), t).toBe(t);
    }
    expect(publicTypeOf("payout.awaiting_approval")).toBe("payout.awaiting_approval");
    expect(publicTypeOf("payouts.paused")).toBe("payouts.paused");
    expect(publicTypeOf("payouts.resumed")).toBe("payouts.resumed");
    expect(publicTypeOf("payout.queued")).toBeUndefined();
    expect(publicTypeOf("webhook_endpoint.created")).toBeUndefined();
  });
});

describe("webhook retry backoff", () => {
  const s = {
    backoffMs: 1_000,
    backoffMaxMs: 60_000,
    retryWindowMs: 0,
    leaseMs: 0,
    pollMs: 0,
    concurrency: 1,
  };

  it("doubles per attempt within ±25 % jitter and stops growing at the cap", () => {
    expect(backoffMs(s, 1, () => 0.5)).toBe(1_000);
    expect(backoffMs(s, 4, () => 0.5)).toBe(8_000);
    expect(backoffMs(s, 4, () => 0)).toBe(6_000);
    expect(backoffMs(s, 4, () => 0.999_999)).toBeLessThanOrEqual(10_000);
    expect(backoffMs(s, 30, () => 0.5)).toBe(60_000);
    expect(backoffMs(s, 5_000, () => 0.5)).toBe(60_000);
  });
});
