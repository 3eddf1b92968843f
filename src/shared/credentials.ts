import { AppError } from "./errors.js";

/**
 * How credentials are presented and what they look like, for every process that checks them
 * (core verifies them, the edge screens them before asking core). No secret is logged: the
 * causes below name the problem, never the credential.
 */

/** The same answer for every failure, so a caller cannot tell which check failed. */
export const UNAUTHENTICATED_MESSAGE = "missing or invalid credentials";

/**
 * The API key format: "tp_<id>_<secret>", where id is 12 random bytes in lowercase hex (public,
 * used to find the row) and secret is 32 random bytes in unpadded base64url (43 characters).
 * The id never contains "_", so the first "_" after the id ends it even though base64url
 * secrets may contain "_".
 */
const KEY_FORMAT = /^tp_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$/;

/** A presented key split into its parts; undefined if it is not exactly our format. */
export interface ParsedKey {
  id: string;
  secret: Buffer;
}

/** Parses a presented key strictly (format, length, canonical base64url); never throws. */
export function parseKey(presented: string): ParsedKey | undefined {
  const m = KEY_FORMAT.exec(presented);
  if (!m) return undefined;
  const secret = Buffer.from(m[2] as string, "base64url");
  // 43 characters carry 258 bits; only the canonical spelling of the 32 bytes is accepted, so
  // one key has exactly one string.
  if (secret.length !== 32 || secret.toString("base64url") !== m[2]) return undefined;
  return { id: m[1] as string, secret };
}

/** True when a presented credential has the shape of a JWS compact serialization. */
export function looksLikeJwt(credential: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
}

/**
 * The credential in `authorization: Bearer …` or `x-api-key`; throws auth.unauthenticated when
 * there is none or the Authorization header is not a Bearer credential.
 */
export function presentedCredential(header: Headers): string {
  const authorization = header.get("authorization");
  if (authorization !== null) {
    const m = /^Bearer +(\S+)$/i.exec(authorization.trim());
    if (!m) throw unauthenticated("authorization header is not a Bearer credential");
    return m[1] as string;
  }
  const apiKey = header.get("x-api-key");
  if (apiKey !== null) return apiKey.trim();
  throw unauthenticated("no credentials presented");
}

/** auth.unauthenticated with the one client message; `cause` is for the log only. */
export function unauthenticated(cause: string): AppError {
  return new AppError("auth.unauthenticated", UNAUTHENTICATED_MESSAGE, {
    cause: new Error(cause),
  });
}
