import { decodePageToken, encodePageToken } from "../kernel/page.js";

/** Page tokens over (created_at in ms, id), shared by the endpoint and delivery lists. */
const KEY = /^(\d{1,15}):(whd?_[a-z2-7]{26})$/;

/** The token that continues after this row. */
export function webhookPageToken(createdAt: number, id: string): string {
  return encodePageToken([createdAt, id]);
}

/** The position a token names; undefined for ""; throws request.invalid when malformed. */
export function webhookCursor(token: string): { createdAt: number; id: string } | undefined {
  const parts = decodePageToken(token, KEY);
  return parts && { createdAt: Number(parts[0]), id: parts[1] ?? "" };
}
