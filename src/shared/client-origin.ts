import { createHmac, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { parseKey } from "./credentials.js";

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
 * The bucket that failed authentications are counted in. A client address is its own bucket.
 * Onion clients have none (they all reach us from the local Tor), so their failures are
 * counted per API key id presented: someone guessing secrets locks out that key for the
 * window, not every onion client. Tokens and malformed credentials share one onion bucket.
 */
export function failureBucket(origin: ClientOrigin, presented: string | undefined): string {
  if (!origin.viaOnion) return origin.ip ?? "unknown";
  const key = presented === undefined ? undefined : parseKey(presented);
  return key ? `onion:key:${key.id}` : "onion:other";
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
