import { BlockList, isIP } from "node:net";
import { AppError } from "../../shared/errors.js";

/**
 * Allowed client addresses of an API key: single addresses or CIDR ranges, IPv4 or IPv6.
 * node:net's BlockList does the matching (including IPv4-mapped IPv6 addresses).
 */

/** Checks and normalizes an allowed-IP list; throws request.invalid naming the bad entry. */
export function normalizeAllowedIps(entries: readonly string[]): string[] {
  return entries.map((raw) => {
    const entry = raw.trim();
    if (parseEntry(entry) === undefined) {
      throw new AppError("request.invalid", `allowed_ips entry is not an address or CIDR range`, {
        metadata: { field: "allowed_ips", value: entry.slice(0, 64) },
      });
    }
    return entry;
  });
}

/** True when `ip` is allowed by `entries`; an empty list allows any address, even none. */
export function ipAllowed(entries: readonly string[], ip: string | undefined): boolean {
  if (entries.length === 0) return true;
  if (ip === undefined) return false;
  const family = familyOf(ip);
  if (family === undefined) return false;
  const list = new BlockList();
  for (const entry of entries) {
    const parsed = parseEntry(entry);
    if (parsed === undefined) continue;
    if (parsed.prefix === undefined) list.addAddress(parsed.address, parsed.family);
    else list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return list.check(ip, family);
}

interface Entry {
  address: string;
  family: "ipv4" | "ipv6";
  prefix?: number;
}

function parseEntry(entry: string): Entry | undefined {
  const [address, prefixText, extra] = entry.split("/");
  if (address === undefined || extra !== undefined) return undefined;
  const family = familyOf(address);
  if (family === undefined) return undefined;
  if (prefixText === undefined) return { address, family };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > (family === "ipv4" ? 32 : 128)) return undefined;
  return { address, family, prefix };
}

function familyOf(ip: string): "ipv4" | "ipv6" | undefined {
  const v = isIP(ip);
  return v === 4 ? "ipv4" : v === 6 ? "ipv6" : undefined;
}
