import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CLIENT_HEADER,
  CLIENT_MAC_HEADER,
  type ClientOrigin,
  decodeOrigin,
  encodeOrigin,
  failureBucket,
  originHeaders,
  peerOrigin,
  readForwardedOrigin,
} from "./client-origin.js";

const secret = randomBytes(32).toString("base64url");
const KEY_ID = "0123456789abcdef01234567";
const key = `tp_${KEY_ID}_${randomBytes(32).toString("base64url")}`;

function read(origin: ClientOrigin, verifyWith = secret) {
  const headers = new Map(originHeaders(secret, origin));
  return readForwardedOrigin(
    verifyWith,
    headers.get(CLIENT_HEADER),
    headers.get(CLIENT_MAC_HEADER),
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
    const [, mac] = originHeaders(secret, origin)[1] ?? [];
    expect(readForwardedOrigin(secret, "onion", mac).kind).toBe("untrusted");
    expect(readForwardedOrigin(secret, "onion", undefined).kind).toBe("untrusted");
    expect(readForwardedOrigin(secret, undefined, mac).kind).toBe("untrusted");
  });

  it("is none when no statement was made, and states nothing without a secret", () => {
    expect(readForwardedOrigin(secret, undefined, undefined)).toEqual({ kind: "none" });
    expect(originHeaders("", { ip: "203.0.113.7", viaOnion: false })).toEqual([]);
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
