import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleType,
  type IPolicy,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from "cockatiel";
import { AppError } from "../../shared/errors.js";
import type { Logger } from "../../shared/log.js";
import { badResponse, isObject, nodeJsonBody, parseNodeJson } from "./node-json.js";
import type { NodeStatus } from "./types.js";

/** What the client needs. */
export interface NodeClientOptions {
  urls: readonly string[];
  timeoutMs: number;
  log: Logger;
  fetch: typeof fetch;
}

/** The node could not be reached or did not answer in time (the request may have arrived). */
export class TransportError extends Error {
  override name = "TransportError";
}

/** One node answered (any JSON), or the transport failed. Used by broadcast only. */
export type SendAnswer = { ok: true; json: unknown } | { ok: false; detail: string };

interface Node {
  /** Base URL without credentials. */
  base: URL;
  /** Scheme, host, port, path: safe to log and show. */
  display: string;
  authorization?: string;
  breaker: CircuitBreakerPolicy;
  policy: IPolicy;
}

const isTransport = (err: unknown) =>
  err instanceof TransportError ||
  err instanceof TaskCancelledError ||
  err instanceof BrokenCircuitError;

/**
 * HTTP to one or more java-tron nodes. Every call has a timeout and a per-node circuit
 * breaker; reads fail over to the next node and are retried once; sends go to one node once.
 */
export class NodeClient {
  private readonly nodes: Node[];
  private preferred = 0;
  private lastOk = false;
  private readonly readRetry = retry(handleType(TransportError), {
    maxAttempts: 1,
    backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }),
  });

  constructor(private readonly opts: NodeClientOptions) {
    if (opts.urls.length === 0) throw new AppError("config.invalid", "no TRON node URL configured");
    this.nodes = opts.urls.map((u) => makeNode(u, opts.timeoutMs));
  }

  /** POSTs a read to the first node that answers; throws node.unavailable / node.bad_response. */
  async read(path: string, body?: unknown): Promise<unknown> {
    try {
      const json = await this.readRetry.execute(() => this.failover(path, body));
      if (isObject(json) && typeof json.Error === "string") {
        throw badResponse(`${path}: node error ${json.Error}`);
      }
      return json;
    } catch (err) {
      if (!isTransport(err)) throw err;
      throw new AppError("node.unavailable", "the TRON node cannot be reached", { cause: err });
    }
  }

  /** POSTs once to one node (no retry, no failover); never throws for transport failures. */
  async send(path: string, body: unknown): Promise<SendAnswer> {
    const node = this.nodeForSend();
    try {
      const json = await node.policy.execute(({ signal }) => this.post(node, path, body, signal));
      this.lastOk = true;
      return { ok: true, json };
    } catch (err) {
      if (err instanceof AppError) return { ok: false, detail: describe(err.cause ?? err) };
      if (!isTransport(err)) throw err;
      this.lastOk = false;
      return { ok: false, detail: describe(err) };
    }
  }

  /** The node in use and whether it answers. */
  status(): NodeStatus {
    const node = this.nodes[this.preferred] as Node;
    return {
      nodeUrl: node.display,
      reachable: this.lastOk && node.breaker.state === CircuitState.Closed,
    };
  }

  private async failover(path: string, body: unknown): Promise<unknown> {
    const failures: string[] = [];
    for (let k = 0; k < this.nodes.length; k++) {
      const i = (this.preferred + k) % this.nodes.length;
      const node = this.nodes[i] as Node;
      try {
        const json = await node.policy.execute(({ signal }) => this.post(node, path, body, signal));
        if (i !== this.preferred) this.opts.log.warn({ node: node.display }, "TRON node failover");
        this.preferred = i;
        this.lastOk = true;
        return json;
      } catch (err) {
        if (!isTransport(err)) throw err;
        failures.push(`${node.display}: ${describe(err)}`);
      }
    }
    this.lastOk = false;
    this.opts.log.warn({ path, failures }, "no TRON node answered");
    throw new TransportError(`no node answered ${path}: ${failures.join("; ")}`);
  }

  private nodeForSend(): Node {
    const order = this.nodes.map(
      (_, k) => this.nodes[(this.preferred + k) % this.nodes.length] as Node,
    );
    return order.find((n) => n.breaker.state !== CircuitState.Open) ?? (order[0] as Node);
  }

  private async post(
    node: Node,
    path: string,
    body: unknown,
    signal: AbortSignal,
  ): Promise<unknown> {
    const url = new URL(node.base);
    url.pathname = url.pathname.replace(/\/$/, "") + path;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (node.authorization) headers.authorization = node.authorization;
    let res: Response;
    let text: string;
    try {
      res = await this.opts.fetch(url, {
        method: "POST",
        headers,
        body: body === undefined ? undefined : nodeJsonBody(body),
        signal,
      });
      text = await res.text();
    } catch (err) {
      throw new TransportError(`${path}: ${describe(err)}`, { cause: err });
    }
    // 5xx and 429 are the node (or a proxy) failing, not an answer about the request.
    if (res.status >= 500 || res.status === 429)
      throw new TransportError(`${path}: HTTP ${res.status}`);
    if (res.status !== 200) throw badResponse(`${path}: HTTP ${res.status}`);
    return parseNodeJson(text);
  }
}

function makeNode(text: string, timeoutMs: number): Node {
  let base: URL;
  try {
    base = new URL(text);
  } catch {
    throw new AppError("config.invalid", "a TRON node URL is not a URL");
  }
  // fetch refuses URLs with credentials; they travel as a Basic header instead.
  const authorization = base.username
    ? `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString("base64")}`
    : undefined;
  base.username = "";
  base.password = "";
  const breaker = circuitBreaker(handleType(TransportError).orType(TaskCancelledError), {
    halfOpenAfter: 10_000,
    breaker: new ConsecutiveBreaker(5),
  });
  const policy = wrap(breaker, timeout(timeoutMs, TimeoutStrategy.Aggressive));
  return { base, display: displayUrl(base), authorization, breaker, policy };
}

/** A node URL as it may be logged or shown: scheme, host, port and path only. */
export function displayUrl(url: URL): string {
  const path = url.pathname === "/" ? "" : url.pathname;
  return `${url.protocol}//${url.host}${path}`;
}

function describe(err: unknown): string {
  if (err instanceof TaskCancelledError) return "timed out";
  if (err instanceof BrokenCircuitError) return "circuit open";
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : "";
    return `${err.message}${cause}`;
  }
  return String(err);
}
