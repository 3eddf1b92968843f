import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { AppError } from "../../shared/errors.js";

/**
 * Where webhooks may go: https anywhere public, http only to a .onion host (Tor encrypts and
 * authenticates it), never to private, loopback, link-local or otherwise special addresses,
 * so an endpoint cannot be aimed at the operator's own network. Every address a name resolves
 * to is checked, at creation and again at each connection (against DNS rebinding).
 */

export interface UrlPolicy {
  /** Allow loopback destinations, including plain http to them (tests and local setups). */
  allowLoopback: boolean;
}

// Special-purpose ranges (IANA registries) that are never a public receiver.
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  BLOCKED.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["64:ff9b::", 96],
  ["64:ff9b:1::", 48],
  ["100::", 64],
  ["2001::", 32],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const) {
  BLOCKED.addSubnet(net, prefix, "ipv6");
}
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** True for a v3 (or any) onion service host name. */
export function isOnion(hostname: string): boolean {
  return hostname.toLowerCase().endsWith(".onion");
}

/** Checks an endpoint URL's shape (no lookups) and returns it parsed; throws request.invalid. */
export function checkWebhookUrl(raw: string, policy: UrlPolicy): URL {
  const invalid = (message: string) =>
    new AppError("request.invalid", message, { metadata: { field: "url" } });
  if (raw.length === 0 || raw.length > 2048) throw invalid("url must be 1–2048 characters");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid("url is not a valid absolute URL");
  }
  if (url.username !== "" || url.password !== "") throw invalid("url must not carry credentials");
  const host = bareHost(url.hostname);
  const plainOk = isOnion(host) || (policy.allowLoopback && isLoopbackName(host));
  if (url.protocol === "http:" && !plainOk) {
    throw invalid("url must be https (plain http only to a .onion host)");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw invalid("url must be https");
  if (isIP(host) !== 0) checkAddress(host, policy);
  return url;
}

/** Refuses an IP address that is not a public destination (webhook.destination_refused). */
export function checkAddress(address: string, policy: UrlPolicy): void {
  const family = isIP(address) === 6 ? "ipv6" : "ipv4";
  const embedded = family === "ipv6" ? embeddedIpv4(address) : undefined;
  if (embedded !== undefined) {
    checkAddress(embedded, policy);
    return;
  }
  if (LOOPBACK.check(address, family)) {
    if (policy.allowLoopback) return;
    throw refused("loopback");
  }
  if (BLOCKED.check(address, family)) throw refused("private or special-purpose");
}

/** Resolves a host name and checks every address; returns them all. */
export async function resolveChecked(
  hostname: string,
  policy: UrlPolicy,
): Promise<{ address: string; family: number }[]> {
  const host = bareHost(hostname);
  if (isIP(host) !== 0) {
    checkAddress(host, policy);
    return [{ address: host, family: isIP(host) }];
  }
  let addresses: { address: string; family: number }[];
  try {
    addresses = await dnsLookup(host, { all: true, verbatim: true });
  } catch (err) {
    throw new AppError("webhook.destination_refused", "the webhook host does not resolve", {
      cause: err,
    });
  }
  if (addresses.length === 0) throw refused("unresolvable");
  for (const a of addresses) checkAddress(a.address, policy);
  return addresses;
}

function refused(kind: string): AppError {
  return new AppError(
    "webhook.destination_refused",
    `the webhook URL points at a ${kind} address`,
    { metadata: { field: "url" } },
  );
}

function isLoopbackName(host: string): boolean {
  if (host === "localhost") return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 6 ? "ipv6" : "ipv4");
}

/** URL.hostname keeps IPv6 brackets; net wants them off. */
function bareHost(hostname: string): string {
  return hostname.startsWith("[") ? hostname.slice(1, -1) : hostname.toLowerCase();
}

/**
 * The IPv4 address an IPv6 address carries, where a host or a gateway would reach that IPv4
 * address through it: IPv4-mapped (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96),
 * IPv4-compatible (::/96, deprecated but still routed by some stacks) and 6to4 (2002::/16).
 * (NAT64 and Teredo are refused as a whole by BLOCKED.)
 */
function embeddedIpv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  if (!g) return undefined;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const v4 = (hi: number, lo: number) => [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
  const [g0 = 0, g1 = 0, g2 = 0, , g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  if (zeros(0, 5) && g5 === 0xffff) return v4(g6, g7);
  if (zeros(0, 4) && g4 === 0xffff && g5 === 0) return v4(g6, g7);
  // :: and ::1 are themselves (unspecified, loopback), not IPv4-compatible addresses.
  if (zeros(0, 6) && !(g6 === 0 && g7 <= 1)) return v4(g6, g7);
  if (g0 === 0x2002) return v4(g1, g2);
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (any notation net.isIP accepts), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase().split("%", 1)[0] ?? "";
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(2).map(Number) as [number, number, number, number];
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const part = (h: string | undefined) =>
    h ? h.split(":").map((x) => Number.parseInt(x, 16)) : [];
  const head = part(halves[0]);
  const tail = part(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...new Array<number>(Math.max(fill, 0)).fill(0), ...tail];
  return groups.length === 8 && groups.every((x) => x >= 0 && x <= 0xffff) ? groups : undefined;
}
