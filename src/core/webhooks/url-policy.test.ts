import { describe, expect, it } from "vitest";
import { reasonOf } from "../../shared/errors.js";
import { checkAddress, checkWebhookUrl, resolveChecked } from "./url-policy.js";

const strict = { allowLoopback: false };
const loose = { allowLoopback: true };

function reasonThrown(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return reasonOf(err);
  }
  return undefined;
}

describe("webhook URL policy", () => {
  it("refuses a URL to 127.0.0.1 unless loopback is allowed", () => {
    expect(reasonThrown(() => checkWebhookUrl("https://127.0.0.1:8443/hook", strict))).toBe(
      "webhook.destination_refused",
    );
    expect(checkWebhookUrl("https://127.0.0.1:8443/hook", loose).port).toBe("8443");
  });

  it("refuses loopback hidden as IPv6, mapped IPv4 or a short IPv4 form", () => {
    for (const url of ["https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://0x7f.1/"]) {
      expect(
        reasonThrown(() => checkWebhookUrl(url, strict)),
        url,
      ).toBe("webhook.destination_refused");
    }
  });

  it("refuses IPv6 forms that embed a loopback or private IPv4 address", () => {
    for (const url of [
      "https://[::127.0.0.1]/", // IPv4-compatible (::/96)
      "https://[::ffff:0:127.0.0.1]/", // IPv4-translated (::ffff:0:0:0/96)
      "https://[2002:7f00::1]/", // 6to4 of 127.0.0.0
      "https://[2002:7f00:1::]/",
      "https://[2002:c0a8:0101::1]/", // 6to4 of 192.168.1.1
      "https://[2002:a00:1::1]/", // 6to4 of 10.0.0.1
      "https://[::a00:1]/",
      "https://[::ffff:0:a9fe:a9fe]/", // 169.254.169.254
      "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", // Teredo
    ]) {
      expect(
        reasonThrown(() => checkWebhookUrl(url, strict)),
        url,
      ).toBe("webhook.destination_refused");
    }
    // With loopback allowed, an embedded loopback is loopback and an embedded private one not.
    expect(checkWebhookUrl("https://[::ffff:0:127.0.0.1]/", loose).hostname).toBe(
      "[::ffff:0:7f00:1]",
    );
    expect(reasonThrown(() => checkAddress("2002:c0a8:101::1", loose))).toBe(
      "webhook.destination_refused",
    );
  });

  it("accepts a 6to4 address of a public IPv4 host", () => {
    expect(() => checkAddress("2002:808:808::1", strict)).not.toThrow();
  });

  it("refuses private, link-local, CGNAT and unspecified addresses even with loopback allowed", () => {
    for (const a of [
      "10.1.2.3",
      "172.20.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "fd00::1",
      "fe80::1",
      "::",
    ]) {
      expect(
        reasonThrown(() => checkAddress(a, loose)),
        a,
      ).toBe("webhook.destination_refused");
    }
  });

  it("accepts public addresses", () => {
    for (const a of ["1.1.1.1", "8.8.8.8", "2606:4700::1111"]) {
      expect(() => checkAddress(a, strict), a).not.toThrow();
    }
  });

  it("allows plain http only to .onion hosts (or loopback when allowed)", () => {
    const onion = "http://exampleonionaddressexampleonionaddressexampleonionadd.onion/hook";
    expect(checkWebhookUrl(onion, strict).protocol).toBe("http:");
    expect(reasonThrown(() => checkWebhookUrl("http://example.com/hook", strict))).toBe(
      "request.invalid",
    );
    expect(reasonThrown(() => checkWebhookUrl("http://127.0.0.1/hook", strict))).toBe(
      "request.invalid",
    );
    expect(checkWebhookUrl("http://127.0.0.1:9/hook", loose).hostname).toBe("127.0.0.1");
  });

  it("refuses credentials, other schemes, and URLs over 2048 characters", () => {
    for (const url of [
      "https://user:pw@example.com/",
      "ftp://example.com/",
      "not a url",
      `https://example.com/${"a".repeat(2048)}`,
    ]) {
      expect(
        reasonThrown(() => checkWebhookUrl(url, strict)),
        url,
      ).toBe("request.invalid");
    }
  });

  it("checks every address a name resolves to", async () => {
    await expect(resolveChecked("localhost", strict)).rejects.toMatchObject({
      reason: "webhook.destination_refused",
    });
    const found = await resolveChecked("localhost", loose);
    expect(found.length).toBeGreaterThan(0);
  });
});
