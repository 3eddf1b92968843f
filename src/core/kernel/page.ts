import { AppError } from "../../shared/errors.js";

/**
 * Paging for every List RPC: one page-size rule and one codec for opaque page tokens. A token
 * is base64url of the key of the last row shown, its parts joined by ":"; each listing says
 * what its key looks like with a pattern, so a token it did not make is refused, never read.
 */

/** A page of rows and the token that continues after it ("" at the end). */
export interface Page<R> {
  items: R[];
  nextPageToken: string;
}

/** Page size: 0 (or none) means 50, capped at 500 (common.proto). */
export function pageSizeOf(size: number | undefined): number {
  return size === undefined || size === 0 ? 50 : Math.min(size, 500);
}

/** The token that continues after the row whose key is `parts`. */
export function encodePageToken(parts: readonly (string | number | bigint)[]): string {
  return Buffer.from(parts.join(":")).toString("base64url");
}

/**
 * The key parts a token names (the pattern's capture groups), undefined for ""; a token that
 * does not match is request.invalid on page.page_token.
 */
export function decodePageToken(token: string, pattern: RegExp): string[] | undefined {
  if (token === "") return undefined;
  const m = pattern.exec(Buffer.from(token, "base64url").toString("utf8"));
  if (!m) throw invalidPageToken();
  return m.slice(1).map((p) => p ?? "");
}

/** The one answer to a page token this server did not give. */
export function invalidPageToken(message = "page_token is not valid"): AppError {
  return new AppError("request.invalid", message, { metadata: { field: "page.page_token" } });
}
