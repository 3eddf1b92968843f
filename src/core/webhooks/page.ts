import { AppError } from "../../shared/errors.js";

/** Opaque page tokens over (created_at, id), shared by the endpoint and delivery lists. */

export interface Page<R> {
  items: R[];
  nextPageToken: string;
}

/** The token that continues after this row. */
export function encodePageToken(createdAt: number, id: string): string {
  return Buffer.from(`${createdAt}:${id}`).toString("base64url");
}

/** The position a token names; undefined for ""; throws request.invalid when malformed. */
export function decodePageToken(token: string): { createdAt: number; id: string } | undefined {
  if (token === "") return undefined;
  const m = /^(\d{1,15}):(whd?_[a-z2-7]{26})$/.exec(Buffer.from(token, "base64url").toString());
  if (!m) {
    throw new AppError("request.invalid", "page_token is not valid", {
      metadata: { field: "page.page_token" },
    });
  }
  return { createdAt: Number(m[1]), id: m[2] ?? "" };
}

/** Page size: 0 means 50, capped at 500 (common.proto). */
export function pageSizeOf(size: number | undefined): number {
  return size === undefined || size === 0 ? 50 : Math.min(size, 500);
}
