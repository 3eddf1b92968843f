import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/**
 * Where a call came from, as the access checks see it: the client's address and whether it
 * arrived through the onion service. Core sees the edge as its TCP peer, so the edge states the
 * client's origin in `x-tronpay-client` and proves it came from the edge with an HMAC of that
 * value under the secret both share (TRONPAY_EDGE_FORWARD_SECRET). Core believes the header only
 * with a valid MAC; the edge drops whatever a client sent under these names.
 */

export interface ClientOrigin {
  /** The client's IP address; undefined for onion clients (Tor hides it) and unknown peers. */
  ip: string | undefined;
  /** Arrived through the onion service (the edge's onion listener). */
  viaOnion: boolean;
}

/** The origin statement and its MAC (lowercase: Node's header names). */
export const CLIENT_HEADER = "x-tronpay-client";
export const CLIENT_MAC_HEADER = "x-tronpay-client-mac";

/** Shortest forward secret accepted (characters); it is a key, not a password. */
export const FORWARD_SECRET_MIN_LENGTH = 32;

const MAC_CONTEXT = "tronpay client origin v1\n";

/** A TCP peer's origin (its address, IPv4-mapped IPv6 unwrapped). */
export function peerOrigin(address: string | undefined): ClientOrigin {
  return { ip: normalizeIp(address), viaOnion: false };
}

/** The header value: "onion", "ip=<address>" or "unknown". */
export function encodeOrigin(origin: ClientOrigin): string {
  if (origin.viaOnion) return "onion";
  return origin.ip === undefined ? "unknown" : `ip=${origin.ip}`;
}

/** Parses a header value; undefined when it is not exactly one of the encodings. */
export function decodeOrigin(value: string): ClientOrigin | undefined {
  if (value === "onion") return { ip: undefined, viaOnion: true };
  if (value === "unknown") return { ip: undefined, viaOnion: false };
  if (!value.startsWith("ip=")) return undefined;
  const ip = value.slice(3);
  return isIP(ip) === 0 ? undefined : { ip, viaOnion: false };
}

/** The two headers that state `origin`, MAC'd with `secret`; none without a secret. */
export function originHeaders(secret: string, origin: ClientOrigin): [string, string][] {
  if (secret === "") return [];
  const value = encodeOrigin(origin);
  return [
    [CLIENT_HEADER, value],
    [CLIENT_MAC_HEADER, macOf(secret, value)],
  ];
}

/** What core makes of the headers of one request. */
export type ForwardedOrigin =
  | { kind: "none" }
  | { kind: "trusted"; origin: ClientOrigin }
  | { kind: "untrusted"; why: string };

/**
 * Reads the origin statement of a request: none when absent; trusted when its MAC verifies
 * under `secret`; untrusted otherwise (no secret configured, a wrong MAC, a malformed value).
 */
export function readForwardedOrigin(
  secret: string,
  value: string | undefined,
  mac: string | undefined,
): ForwardedOrigin {
  if (value === undefined && mac === undefined) return { kind: "none" };
  if (secret === "") return { kind: "untrusted", why: "no forward secret is configured here" };
  if (value === undefined || mac === undefined) {
    return { kind: "untrusted", why: `${CLIENT_HEADER} and its MAC must come together` };
  }
  const expected = Buffer.from(macOf(secret, value));
  const given = Buffer.from(mac);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { kind: "untrusted", why: "the MAC does not match (a different forward secret?)" };
  }
  const origin = decodeOrigin(value);
  if (!origin) return { kind: "untrusted", why: `${CLIENT_HEADER} is malformed` };
  return { kind: "trusted", origin };
}

/**
 * The bucket that failed authentications are counted in, chosen so that a guesser only hurts
 * itself. A client address is its own bucket: whoever fails there is that client. Onion
 * clients (and callers whose address is unknown) all look alike, so their bucket is the
 * credential they present, by a prefix of its sha256 (132 bits: distinct credentials never
 * share one): a guesser that repeats a credential locks out that credential, and one that
 * varies it, or guesses secrets for a known key id, locks out nobody else. Calls without a
 * credential share one bucket (they cannot succeed anyway). What bounds a guesser that varies
 * its credential is the global breaker (rate-limit.ts, AuthFailures).
 */
export function failureBucket(origin: ClientOrigin, presented: string | undefined): string {
  if (!origin.viaOnion && origin.ip !== undefined) return `ip:${origin.ip}`;
  const where = origin.viaOnion ? "onion" : "unknown";
  return presented === undefined ? `${where}:none` : `${where}:${credentialHash(presented)}`;
}

/** A credential's fingerprint for buckets and caches (sha256 prefix); never the credential. */
export function credentialHash(presented: string): string {
  return createHash("sha256").update(presented).digest("base64url").slice(0, 22);
}

function macOf(secret: string, value: string): string {
  return createHmac("sha256", secret)
    .update(MAC_CONTEXT + value)
    .digest("base64url");
}

function normalizeIp(address: string | undefined): string | undefined {
  if (address === undefined || address === "") return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}
