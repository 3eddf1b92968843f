// Outbound HTTP through Tor's SOCKS port, as a fetch-compatible function for core's TRON
// node client and for webhook deliveries. Node's global fetch ignores http.Agent, so this
// is node:http(s) with socks-proxy-agent behind a small fetch-shaped wrapper.
//
// Fail closed: every request goes to the SOCKS port; when Tor is down the call fails.
// There is no code path here that opens a direct connection.
import { createHash } from "node:crypto";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { SocksProxyAgent } from "socks-proxy-agent";
import { AppError } from "./errors.js";

/** Where Tor's SOCKS port is. */
export interface SocksOptions {
  host: string;
  port: number;
  /** Whole-request limit when the caller passes no signal, default 60 s (circuits are slow). */
  timeoutMs?: number;
}

/** The subset of fetch this module implements (what node-client and webhooks use). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * A fetch through Tor: names are resolved by Tor (socks5h), each destination host:port gets
 * its own SOCKS username so Tor keeps it on its own circuits (IsolateSOCKSAuth), redirects
 * are returned, not followed. Transport failures reject with tor.unavailable.
 */
export function createSocksFetch(opts: SocksOptions): FetchLike {
  const agents = new Map<string, SocksProxyAgent>();
  const agentFor = (url: URL): SocksProxyAgent => {
    const destination = `${url.protocol}//${url.host}`;
    let agent = agents.get(destination);
    if (!agent) {
      // Only the local Tor sees this name; a digest keeps destinations out of Tor's logs.
      const user = createHash("sha256").update(destination).digest("hex").slice(0, 32);
      const proxy = `socks5h://${user}:tronpay@${opts.host}:${opts.port}`;
      agent = new SocksProxyAgent(proxy, { keepAlive: true });
      agents.set(destination, agent);
    }
    return agent;
  };
  return async (input, init = {}) => {
    const req = input instanceof Request ? input : undefined;
    const url = new URL(req ? req.url : input);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`unsupported URL scheme ${url.protocol}`);
    }
    const body = bodyOf(init.body ?? (req?.body ? await req.arrayBuffer() : undefined));
    const headers = new Headers(init.headers ?? req?.headers);
    if (body && !headers.has("content-length")) headers.set("content-length", String(body.length));
    const signal = init.signal ?? req?.signal ?? AbortSignal.timeout(opts.timeoutMs ?? 60_000);
    signal.throwIfAborted();
    const method = (init.method ?? req?.method ?? "GET").toUpperCase();
    const res = await exchange(url, { method, headers, body, agent: agentFor(url), signal });
    return toResponse(res, method);
  };
}

interface Exchange {
  method: string;
  headers: Headers;
  body: Buffer | undefined;
  agent: SocksProxyAgent;
  signal: AbortSignal;
}

/** One HTTP request over the agent; resolves at the response headers. */
function exchange(url: URL, x: Exchange): Promise<IncomingMessage> {
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  const { signal } = x;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const r = send(url, {
      method: x.method,
      headers: Object.fromEntries(x.headers),
      agent: x.agent,
    });
    // Abort by hand: while the agent is still talking SOCKS, the request's own signal
    // option leaves the promise pending.
    const onAbort = () => {
      r.destroy();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    r.once("response", (res) => {
      signal.removeEventListener("abort", onAbort);
      // An abort after the headers ends the body stream, as fetch does.
      signal.addEventListener("abort", () => res.destroy(signal.reason), { once: true });
      resolve(res);
    });
    r.once("error", (err) => reject(signal.aborted ? signal.reason : throughTorFailed(err)));
    r.end(x.body);
  });
}

function bodyOf(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString(), "utf8");
  throw new TypeError("unsupported request body type for the Tor fetch");
}

const NULL_BODY = new Set([101, 204, 205, 304]);

function toResponse(res: IncomingMessage, method: string): Response {
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    headers.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string);
  }
  const status = res.statusCode ?? 0;
  const empty = NULL_BODY.has(status) || method === "HEAD";
  if (empty) res.resume();
  const body = empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
  return new Response(body, { status, statusText: res.statusMessage, headers });
}

function throughTorFailed(cause: Error): AppError {
  return new AppError("tor.unavailable", "the request could not be sent through Tor", { cause });
}
