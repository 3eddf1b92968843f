import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { formatSecret, newSecret, signatureOf, webhookHeaders } from "./sign.js";

const body = JSON.stringify({ type: "payout.confirmed", data: { id: "po_x", amount: "12.5" } });

describe("Standard Webhooks signatures", () => {
  it("verify with the standardwebhooks package", () => {
    const secret = newSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders([secret], "evt_1", now, body);
    expect(new Webhook(formatSecret(secret)).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("carry one signature per secret, and either secret verifies", () => {
    const [oldSecret, newer] = [newSecret(), newSecret()];
    const now = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders([newer, oldSecret], "evt_2", now, body);
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    for (const s of [oldSecret, newer]) {
      expect(() => new Webhook(formatSecret(s)).verify(body, headers)).not.toThrow();
    }
    expect(() => new Webhook(formatSecret(newSecret())).verify(body, headers)).toThrow();
  });

  it("fail to verify when the body, id or timestamp changes", () => {
    const secret = newSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders([secret], "evt_3", now, body);
    const wh = new Webhook(formatSecret(secret));
    expect(() => wh.verify(`${body} `, headers)).toThrow();
    expect(() => wh.verify(body, { ...headers, "webhook-id": "evt_4" })).toThrow();
    expect(() => wh.verify(body, { ...headers, "webhook-timestamp": String(now - 1) })).toThrow();
  });

  it("matches the spec's published example", () => {
    // The example in the Standard Webhooks specification (spec/standard-webhooks.md).
    const secret = Buffer.from("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "base64");
    const sig = signatureOf(
      secret,
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(sig).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("formats secrets as whsec_ and base64 of 32 bytes", () => {
    const s = formatSecret(newSecret());
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  });
});
