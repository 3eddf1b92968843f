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
  /** Told about every call and breaker change (metrics); optional. */
  observer?: NodeObserver;
}

/** How a call to one node ended: answered (possibly with a refusal), or why it did not. */
export type NodeCallOutcome = "ok" | "bad_response" | "timeout" | "transport" | "circuit_open";

/** Watches node calls per node, named by nodeLabel (host:port, never credentials). */
export interface NodeObserver {
  /** One call to one node; `seconds` is undefined when the open breaker refused it unsent. */
  call(node: string, outcome: NodeCallOutcome, seconds: number | undefined): void;
  /** The node's breaker opened (true) or let calls through again (false). */
  breaker(node: string, open: boolean): void;
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
  /** host:port, the metrics label. */
  label: string;
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
  private available = true;
  private readonly availabilityListeners = new Set<(available: boolean) => void>();
  private readonly readRetry = retry(handleType(TransportError), {
    maxAttempts: 1,
    backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }),
  });

  constructor(private readonly opts: NodeClientOptions) {
    if (opts.urls.length === 0) throw new AppError("config.invalid", "no TRON node URL configured");
    this.nodes = opts.urls.map((u) => makeNode(u, opts.timeoutMs));
    for (const node of this.nodes) node.breaker.onStateChange(() => this.noteAvailability());
    const observer = opts.observer;
    if (observer) {
      for (const node of this.nodes) {
        observer.breaker(node.label, false);
        node.breaker.onStateChange((state) =>
          observer.breaker(
            node.label,
            state === CircuitState.Open || state === CircuitState.Isolated,
          ),
        );
      }
    }
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
      const json = await this.call(node, path, body);
      this.lastOk = true;
      return { ok: true, json };
    } catch (err) {
      if (err instanceof AppError) return { ok: false, detail: describe(err.cause ?? err) };
      if (!isTransport(err)) throw err;
      this.lastOk = false;
      return { ok: false, detail: describe(err) };
    }
  }

  /**
   * False while no node's circuit breaker is closed: every node failed repeatedly, and calls
   * are refused unsent or only let through one at a time as a half-open probe.
   */
  anyNodeAvailable(): boolean {
    return this.nodes.some((n) => n.breaker.state === CircuitState.Closed);
  }

  /** Calls `listener` each time anyNodeAvailable() changes; returns what unsubscribes it. */
  onAvailabilityChange(listener: (available: boolean) => void): () => void {
    this.availabilityListeners.add(listener);
    return () => this.availabilityListeners.delete(listener);
  }

  private noteAvailability(): void {
    const available = this.anyNodeAvailable();
    if (available === this.available) return;
    this.available = available;
    for (const listener of this.availabilityListeners) listener(available);
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
        const json = await this.call(node, path, body);
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

  /** One call to one node through its breaker and timeout, told to the observer. */
  private async call(node: Node, path: string, body: unknown): Promise<unknown> {
    const started = performance.now();
    let outcome: NodeCallOutcome = "ok";
    try {
      return await node.policy.execute(({ signal }) => this.post(node, path, body, signal));
    } catch (err) {
      outcome = outcomeOf(err);
      throw err;
    } finally {
      const seconds = outcome === "circuit_open" ? undefined : (performance.now() - started) / 1000;
      this.opts.observer?.call(node.label, outcome, seconds);
    }
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
  return {
    base,
    display: displayUrl(base),
    label: nodeLabel(base),
    authorization,
    breaker,
    policy,
  };
}

/** A node as a metrics label: host and port (the scheme's default when none is given). */
export function nodeLabel(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.hostname}:${port}`;
}

function outcomeOf(err: unknown): NodeCallOutcome {
  if (err instanceof BrokenCircuitError) return "circuit_open";
  if (err instanceof TaskCancelledError) return "timeout";
  if (err instanceof TransportError) return "transport";
  return "bad_response";
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
