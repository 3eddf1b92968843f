import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/**
 * Where a call came from, as the access checks see it: the client's address and whether it
 * arrived through the onion service. Core sees the edge as its TCP peer, so the edge states the
 * client's origin in `x-tronpay-client` and proves it came from the edge with an HMAC under the
 * secret both share (TRONPAY_EDGE_FORWARD_SECRET). The MAC covers the value, the time it was
 * made, the RPC it is for, the request id and a nonce (`<ms>.<nonce>.<mac>` in
 * `x-tronpay-client-mac`), so a captured statement cannot be put on another call, is refused
 * once stale, and is refused when seen twice by the same core. Core believes the header only
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

const MAC_CONTEXT = "tronpay client origin v2\n";

/**
 * How far a statement's time may be from the reader's clock (ms), either way: the edge and
 * core may run on hosts whose clocks differ a little; a statement older than this is stale.
 */
export const ORIGIN_MAX_AGE_MS = 30_000;

/** The call a statement is made for: MAC'd with it, so it is good for that call only. */
export interface OriginCall {
  /** The RPC's path, "/tronpay.v1.PayoutService/GetPayout". */
  procedure: string;
  /** The x-request-id sent with the call. */
  requestId: string;
}

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

/**
 * The two headers that state `origin` for one call (send x-request-id = call.requestId with
 * them), MAC'd with `secret`; none without a secret.
 */
export function originHeaders(
  secret: string,
  origin: ClientOrigin,
  call: OriginCall,
  now = Date.now(),
): [string, string][] {
  if (secret === "") return [];
  const value = encodeOrigin(origin);
  const stamp = `${Math.trunc(now)}.${randomBytes(12).toString("base64url")}`;
  return [
    [CLIENT_HEADER, value],
    [CLIENT_MAC_HEADER, `${stamp}.${macOf(secret, stamp, call, value)}`],
  ];
}

/** What core makes of the headers of one request. */
export type ForwardedOrigin =
  | { kind: "none" }
  | { kind: "trusted"; origin: ClientOrigin }
  | { kind: "untrusted"; why: string };

/** What the reader knows of the call that carried a statement. */
export interface ReceivedCall {
  procedure: string;
  requestId: string | undefined;
  /** The reader's clock (ms). */
  now: number;
  /** Statements seen before (one per reader process); without it replays are not caught. */
  seen?: SeenStatements;
}

/**
 * Reads the origin statement of a request: none when absent; trusted when its MAC verifies
 * under `secret` for this call (procedure and request id), within ORIGIN_MAX_AGE_MS of `now`
 * and not seen before; untrusted otherwise (no secret configured, a wrong MAC, a statement made
 * for another call, stale or replayed, a malformed value).
 */
export function readForwardedOrigin(
  secret: string,
  value: string | undefined,
  mac: string | undefined,
  call: ReceivedCall,
): ForwardedOrigin {
  if (value === undefined && mac === undefined) return { kind: "none" };
  if (secret === "") return { kind: "untrusted", why: "no forward secret is configured here" };
  if (value === undefined || mac === undefined) {
    return { kind: "untrusted", why: `${CLIENT_HEADER} and its MAC must come together` };
  }
  if (call.requestId === undefined) {
    return { kind: "untrusted", why: "a statement of origin needs the call's x-request-id" };
  }
  const parts = /^(\d{1,15})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/.exec(mac);
  if (!parts) return { kind: "untrusted", why: `${CLIENT_MAC_HEADER} is malformed` };
  const [, ms = "", nonce = "", given = ""] = parts;
  const stamp = `${ms}.${nonce}`;
  const expected = Buffer.from(
    macOf(secret, stamp, { procedure: call.procedure, requestId: call.requestId }, value),
  );
  if (!timingSafeEqual(Buffer.from(given), expected)) {
    return {
      kind: "untrusted",
      why: "the MAC does not match this call (another forward secret, or a statement made for another call)",
    };
  }
  if (Math.abs(call.now - Number(ms)) > ORIGIN_MAX_AGE_MS) {
    return { kind: "untrusted", why: "the statement is stale (or the clocks differ too much)" };
  }
  if (call.seen && !call.seen.first(nonce, Number(ms), call.now)) {
    return { kind: "untrusted", why: "the statement was already used (a replay)" };
  }
  const origin = decodeOrigin(value);
  if (!origin) return { kind: "untrusted", why: `${CLIENT_HEADER} is malformed` };
  return { kind: "trusted", origin };
}

/**
 * The nonces of statements seen within the last ORIGIN_MAX_AGE_MS (older ones are refused as
 * stale anyway). Bounded: past `max` entries the oldest are forgotten, which only reopens
 * replays of statements that old under a flood of more than `max` calls per window.
 */
export class SeenStatements {
  private readonly nonces = new Map<string, number>();

  constructor(private readonly max = 200_000) {}

  /** True the first time `nonce` is seen; remembers it until its statement is stale. */
  first(nonce: string, madeAt: number, now: number): boolean {
    for (const [old, until] of this.nonces) {
      if (until >= now && this.nonces.size < this.max) break;
      this.nonces.delete(old);
    }
    if (this.nonces.has(nonce)) return false;
    // Kept until the statement is stale on either side of the clock window.
    this.nonces.set(nonce, Math.max(madeAt, now) + ORIGIN_MAX_AGE_MS);
    return true;
  }
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

function macOf(secret: string, stamp: string, call: OriginCall, value: string): string {
  // Newline-separated: none of the parts can hold one (headers cannot).
  return createHmac("sha256", secret)
    .update(`${MAC_CONTEXT}${stamp}\n${call.procedure}\n${call.requestId}\n${value}`)
    .digest("base64url");
}

function normalizeIp(address: string | undefined): string | undefined {
  if (address === undefined || address === "") return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}
