import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { AppError } from "../shared/errors.js";
import { type HttpError, toHttpError } from "./transcode/errors.js";

/** A request from either the HTTP/1.1 or the HTTP/2 compatibility API. */
export type EdgeRequest = IncomingMessage | Http2ServerRequest;
/** A response from either the HTTP/1.1 or the HTTP/2 compatibility API. */
export type EdgeResponse = ServerResponse | Http2ServerResponse;

/** The part of a response that both APIs share with one signature (their `write` differ). */
export function writeText(res: EdgeResponse, text: string): void {
  (res as { write(chunk: string): boolean }).write(text);
}

/** Headers on every API answer: nothing cached, nothing sniffed, no referrer sent on. */
export const API_HEADERS: Readonly<Record<string, string>> = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/**
 * Answers with headers alone and ends the stream in the same frame. gRPC calls this
 * "trailers-only": @grpc/grpc-js reads grpc-status from headers only when they end the stream
 * (headers followed by an empty DATA frame read as "Call ended without gRPC status"), and
 * node's compatibility API always sends that empty frame on end().
 */
export function sendHeadersOnly(
  res: EdgeResponse,
  status: number,
  headers: Record<string, string | string[]>,
): void {
  if ("stream" in res && !res.headersSent) {
    res.stream.respond({ ...headers, ":status": status }, { endStream: true });
    return;
  }
  res.writeHead(status, headers);
  res.end();
}

/** One request header as a string (the first, if repeated). */
export function header(req: EdgeRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads the body up to `max` bytes; throws request.too_large past it (without reading on). */
export async function readBody(req: EdgeRequest, max: number): Promise<Buffer> {
  const declared = Number(header(req, "content-length") ?? "0");
  if (declared > max) throw tooLarge(max);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw tooLarge(max);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(max: number): AppError {
  return new AppError("request.too_large", `the request body is larger than ${max} bytes`, {
    metadata: { max_bytes: String(max) },
  });
}

/** Sends a JSON answer with the API headers. */
export function sendJson(
  res: EdgeResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...API_HEADERS,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Sends an HttpError (the Status JSON); a no-op when the answer has already started. */
export function sendError(
  res: EdgeResponse,
  err: HttpError | unknown,
  extra: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const answer = isHttpError(err) ? err : toHttpError(err);
  sendJson(res, answer.status, answer.body, { ...answer.headers, ...extra });
}

function isHttpError(v: unknown): v is HttpError {
  return (
    typeof v === "object" && v !== null && "status" in v && "body" in v && !(v instanceof Error)
  );
}
