import type { IncomingMessage, ServerResponse } from "node:http";

/** One parsed request as handlers see it. */
export interface DevnetRequest {
  readonly method: string;
  /** Path without query string, lower-cased (java-tron's servlet paths are matched so). */
  readonly path: string;
  /** The path as sent (event routes carry case-sensitive base58). */
  readonly rawPath: string;
  /** Query parameters merged with the JSON body (body wins). */
  readonly params: Readonly<Record<string, unknown>>;
}

/** A handler's answer: any JSON value (bigints allowed), or HANG_UP to drop the connection. */
export type HandlerResult = unknown;

/** Handler signature shared by all route files. */
export type Handler = (req: DevnetRequest) => HandlerResult | Promise<HandlerResult>;

/** Returned by a handler to destroy the connection without answering (fault injection). */
export const HANG_UP = Symbol("hang-up");

/** A client error answered like java-tron: HTTP 200 with `{"Error": message}`. */
export class RequestError extends Error {}

// A 500 KiB transaction is ~1 MiB of hex in JSON; leave room to answer TOO_BIG properly.
const MAX_BODY = 8 * 1024 * 1024;

/** Reads the body and merges it over the query string; throws RequestError on bad JSON. */
export async function parseRequest(req: IncomingMessage): Promise<DevnetRequest> {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const pathname = q < 0 ? url : url.slice(0, q);
  const params: Record<string, unknown> =
    q < 0 ? {} : Object.fromEntries(new URLSearchParams(url.slice(q + 1)));
  const body = await readBody(req);
  if (body.trim() !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new RequestError("request body is not JSON");
    }
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      Object.assign(params, parsed);
  }
  const rawPath = decodePath(pathname).replace(/\/+$/, "") || "/";
  return { method: req.method ?? "GET", path: rawPath.toLowerCase(), rawPath, params };
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw new RequestError("malformed request path");
  }
}

// Event-based rather than `for await`: broadcasts are small and this is the hot path.
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new RequestError("request body too large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () =>
      resolve(
        chunks.length === 1
          ? (chunks[0] as Buffer).toString("utf8")
          : Buffer.concat(chunks).toString("utf8"),
      ),
    );
    req.on("error", reject);
  });
}

// Marks a bigint during stringify so it can be written back as exact digits afterwards.
const BIGINT_MARK = "\u0000int64:";
const BIGINT_TOKEN = /"\\u0000int64:(-?\d+)"/g;

/**
 * Serializes a value, writing bigints as exact JSON numbers (as java-tron does for int64, even
 * above 2^53) or, with int64AsString, as strings.
 */
export function toJson(value: unknown, int64AsString: boolean): string {
  const text = JSON.stringify(value, (_key, v) =>
    typeof v === "bigint" ? (int64AsString ? v.toString() : `${BIGINT_MARK}${v}`) : v,
  );
  return int64AsString ? text : text.replace(BIGINT_TOKEN, "$1");
}

/** Writes a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** True for the boolean-ish flags java-tron accepts (true, "true"). */
export function flag(v: unknown): boolean {
  return v === true || v === "true";
}

/** Reads an integer parameter (number or numeric string); undefined when absent. */
export function intParam(
  params: Readonly<Record<string, unknown>>,
  key: string,
): number | undefined {
  const v = params[key];
  if (v === undefined || v === null || v === "") return undefined;
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isSafeInteger(n)) throw new RequestError(`${key} must be an integer`);
  return n;
}

/** Reads a required string parameter. */
export function stringParam(params: Readonly<Record<string, unknown>>, key: string): string {
  const v = params[key];
  if (typeof v !== "string" || v === "") throw new RequestError(`${key} is required`);
  return v;
}
