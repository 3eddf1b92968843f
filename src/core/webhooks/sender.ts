import type { LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { AppError } from "../../shared/errors.js";
import type { FetchLike } from "../../shared/tor-socks.js";
import { checkWebhookUrl, isOnion, resolveChecked, type UrlPolicy } from "./url-policy.js";

/**
 * How a delivery reaches an endpoint: one POST, no redirects followed, the answer's body read
 * up to a cap and dropped. Direct sends connect only to addresses the URL policy checked at
 * connection time; in tor mode everything goes through Tor's SOCKS port and nothing else.
 */

/** An HTTP answer (status only: the body is not kept). */
export interface SendResult {
  status: number;
}

/** A send that got no HTTP answer; `kind` becomes the delivery's last_error. */
export class SendFailed extends Error {
  constructor(
    readonly kind: string,
    options?: { cause?: unknown },
  ) {
    super(kind, options);
  }
}

export type Sender = (
  url: string,
  headers: Record<string, string>,
  body: string,
) => Promise<SendResult>;

export interface SenderOptions {
  policy: UrlPolicy;
  timeoutMs: number;
  /** How much of an answer's body is read before the connection is dropped. */
  maxBodyBytes: number;
  /** Set in tor mode: the SOCKS fetch, the only way out. */
  torFetch?: FetchLike;
}

/** A sender for the configured mode. */
export function createSender(opts: SenderOptions): Sender {
  return async (raw, headers, body) => {
    let url: URL;
    try {
      url = checkWebhookUrl(raw, opts.policy);
    } catch (err) {
      throw new SendFailed("destination_refused", { cause: err });
    }
    const signal = AbortSignal.timeout(opts.timeoutMs);
    const all = {
      ...headers,
      "content-type": "application/json",
      "user-agent": "tronpay-webhooks",
    };
    try {
      if (opts.torFetch) return await viaTor(opts.torFetch, url, all, body, signal, opts);
      if (isOnion(url.hostname)) throw new SendFailed("onion_requires_tor");
      return await direct(url, all, body, signal, opts);
    } catch (err) {
      throw classify(err, signal);
    }
  };
}

async function viaTor(
  torFetch: FetchLike,
  url: URL,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
  opts: SenderOptions,
): Promise<SendResult> {
  const res = await torFetch(url, { method: "POST", headers, body, signal, redirect: "manual" });
  const reader = res.body?.getReader();
  let read = 0;
  while (reader && read < opts.maxBodyBytes) {
    const chunk = await reader.read();
    if (chunk.done) break;
    read += chunk.value.byteLength;
  }
  await reader?.cancel().catch(() => {});
  return { status: res.status };
}

function direct(
  url: URL,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
  opts: SenderOptions,
): Promise<SendResult> {
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<SendResult>((resolve, reject) => {
    const req = send(url, {
      method: "POST",
      headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
      lookup: checkedLookup(opts.policy),
      // No pooled sockets: each delivery resolves and checks its destination afresh.
      agent: false,
      signal,
    });
    req.once("error", reject);
    req.once("response", (res) => drain(res, opts.maxBodyBytes).then(resolve, reject));
    req.end(body);
  });
}

/** Reads at most `cap` bytes of an answer, then closes it. */
function drain(res: IncomingMessage, cap: number): Promise<SendResult> {
  return new Promise((resolve) => {
    let read = 0;
    const done = () => resolve({ status: res.statusCode ?? 0 });
    res.on("data", (chunk: Buffer) => {
      read += chunk.length;
      if (read >= cap) {
        res.destroy();
        done();
      }
    });
    res.once("end", done);
    res.once("error", done);
    res.once("close", done);
  });
}

/** A DNS lookup for node:net that refuses any address the policy refuses. */
function checkedLookup(policy: UrlPolicy): LookupFunction {
  return (hostname, options, callback) => {
    resolveChecked(hostname, policy).then(
      (found) => {
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const fit = found.filter((a) => wanted === 0 || a.family === wanted);
        if (options.all) return callback(null, fit as LookupAddress[]);
        const first = fit[0];
        if (!first) return callback(new Error("no address of the wanted family"), "", 0);
        callback(null, first.address, first.family);
      },
      (err: Error) => callback(err as NodeJS.ErrnoException, "", 0),
    );
  };
}

function classify(err: unknown, signal: AbortSignal): SendFailed {
  if (err instanceof SendFailed) return err;
  if (signal.aborted) return new SendFailed("timeout", { cause: err });
  if (err instanceof AppError) {
    if (err.reason === "webhook.destination_refused") {
      return new SendFailed("destination_refused", { cause: err });
    }
    if (err.reason === "tor.unavailable") return new SendFailed("tor_unavailable", { cause: err });
  }
  return new SendFailed("connection_failed", { cause: err });
}
