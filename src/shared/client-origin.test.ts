import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CLIENT_HEADER,
  CLIENT_MAC_HEADER,
  type ClientOrigin,
  decodeOrigin,
  encodeOrigin,
  failureBucket,
  ORIGIN_MAX_AGE_MS,
  originHeaders,
  peerOrigin,
  readForwardedOrigin,
  SeenStatements,
} from "./client-origin.js";

const secret = randomBytes(32).toString("base64url");
const KEY_ID = "0123456789abcdef01234567";
const key = `tp_${KEY_ID}_${randomBytes(32).toString("base64url")}`;

const CALL = { procedure: "/tronpay.v1.PayoutService/GetPayout", requestId: "req-1" };
const NOW = 1_800_000_000_000;

function read(origin: ClientOrigin, verifyWith = secret) {
  const headers = new Map(originHeaders(secret, origin, CALL, NOW));
  return readForwardedOrigin(
    verifyWith,
    headers.get(CLIENT_HEADER),
    headers.get(CLIENT_MAC_HEADER),
    {
      ...CALL,
      now: NOW,
    },
  );
}

describe("the client origin the edge states for core", () => {
  it("round-trips every origin through the MAC'd headers", () => {
    for (const origin of [
      { ip: "203.0.113.7", viaOnion: false },
      { ip: "2001:db8::1", viaOnion: false },
      { ip: undefined, viaOnion: true },
      { ip: undefined, viaOnion: false },
    ]) {
      expect(read(origin)).toEqual({ kind: "trusted", origin });
    }
  });

  it("is untrusted under another secret, without a secret, or with a changed value", () => {
    const origin = { ip: "203.0.113.7", viaOnion: false };
    expect(read(origin, randomBytes(32).toString("base64url")).kind).toBe("untrusted");
    expect(read(origin, "").kind).toBe("untrusted");
    const [, mac] = originHeaders(secret, origin, CALL, NOW)[1] ?? [];
    const at = { ...CALL, now: NOW };
    expect(readForwardedOrigin(secret, "onion", mac, at).kind).toBe("untrusted");
    expect(readForwardedOrigin(secret, "onion", undefined, at).kind).toBe("untrusted");
    expect(readForwardedOrigin(secret, undefined, mac, at).kind).toBe("untrusted");
  });

  it("is good for its own call only: same procedure, same request id, fresh, once", () => {
    const origin = { ip: "203.0.113.7", viaOnion: false };
    const [[, value], [, mac]] = originHeaders(secret, origin, CALL, NOW) as [
      [string, string],
      [string, string],
    ];
    const check = (call: Partial<typeof CALL & { now: number; seen: SeenStatements }>) =>
      readForwardedOrigin(secret, value, mac, { ...CALL, now: NOW, ...call });
    expect(check({}).kind).toBe("trusted");
    expect(check({ procedure: "/tronpay.v1.PayoutService/CreatePayout" })).toMatchObject({
      kind: "untrusted",
      why: expect.stringContaining("another call"),
    });
    expect(check({ requestId: "req-2" }).kind).toBe("untrusted");
    expect(check({ requestId: undefined as unknown as string }).kind).toBe("untrusted");
    expect(check({ now: NOW + ORIGIN_MAX_AGE_MS - 1 }).kind).toBe("trusted");
    expect(check({ now: NOW + ORIGIN_MAX_AGE_MS + 1 })).toMatchObject({
      kind: "untrusted",
      why: expect.stringContaining("stale"),
    });
    expect(check({ now: NOW - ORIGIN_MAX_AGE_MS - 1 }).kind).toBe("untrusted");
    const seen = new SeenStatements();
    expect(check({ seen }).kind).toBe("trusted");
    expect(check({ seen, now: NOW + 1 })).toMatchObject({
      kind: "untrusted",
      why: expect.stringContaining("replay"),
    });
    // A new statement for the same call (a client's retry with its request id) is fine.
    const [, [, again]] = originHeaders(secret, origin, CALL, NOW + 2) as [
      [string, string],
      [string, string],
    ];
    expect(readForwardedOrigin(secret, value, again, { ...CALL, now: NOW + 2, seen }).kind).toBe(
      "trusted",
    );
  });

  it("forgets seen statements once they are stale, and holds at most its bound", () => {
    const seen = new SeenStatements(3);
    expect(seen.first("a", NOW, NOW)).toBe(true);
    expect(seen.first("a", NOW, NOW + ORIGIN_MAX_AGE_MS)).toBe(false);
    expect(seen.first("a", NOW, NOW + ORIGIN_MAX_AGE_MS + 1)).toBe(true);
    for (const n of ["b", "c", "d"]) expect(seen.first(n, NOW, NOW)).toBe(true);
    // "a" (the oldest) was forgotten to keep the bound.
    expect(seen.first("a", NOW, NOW)).toBe(true);
  });

  it("is none when no statement was made, and states nothing without a secret", () => {
    expect(readForwardedOrigin(secret, undefined, undefined, { ...CALL, now: NOW })).toEqual({
      kind: "none",
    });
    expect(originHeaders("", { ip: "203.0.113.7", viaOnion: false }, CALL)).toEqual([]);
  });

  it("accepts only exact encodings", () => {
    expect(decodeOrigin("ip=10.0.0.1")).toEqual({ ip: "10.0.0.1", viaOnion: false });
    for (const bad of ["ip=", "ip=10.0.0.1 ", "ip=example.com", "Onion", "onion,ip=1.2.3.4", ""]) {
      expect(decodeOrigin(bad)).toBeUndefined();
    }
    expect(encodeOrigin({ ip: "10.0.0.1", viaOnion: true })).toBe("onion");
  });

  it("unwraps IPv4-mapped peer addresses", () => {
    expect(peerOrigin("::ffff:10.1.2.3")).toEqual({ ip: "10.1.2.3", viaOnion: false });
    expect(peerOrigin(undefined)).toEqual({ ip: undefined, viaOnion: false });
  });

  it("buckets failures by address, or for onion clients by the credential presented", () => {
    expect(failureBucket({ ip: "10.0.0.1", viaOnion: false }, key)).toBe("ip:10.0.0.1");
    expect(failureBucket({ ip: "10.0.0.1", viaOnion: false }, undefined)).toBe("ip:10.0.0.1");
    const onion = { ip: undefined, viaOnion: true };
    // The same key id with another secret, or another token, is another bucket.
    const otherSecret = `${key.slice(0, 28)}${"A".repeat(43)}`;
    const buckets = [key, otherSecret, "eyJhbGciOiJFZERTQSJ9.e30.sig", "eyJ.e30.other"].map((c) =>
      failureBucket(onion, c),
    );
    expect(new Set(buckets).size).toBe(4);
    for (const b of buckets) expect(b).toMatch(/^onion:[A-Za-z0-9_-]{22}$/);
    expect(failureBucket(onion, key)).toBe(buckets[0]);
    // Nothing of the credential itself is in its bucket.
    expect(buckets[0]).not.toContain(KEY_ID);
    expect(failureBucket(onion, undefined)).toBe("onion:none");
    expect(failureBucket({ ip: undefined, viaOnion: false }, key)).toMatch(/^unknown:/);
  });
});
