/**
 * Admission control of one listener: how many connections and requests it holds at once, in
 * total and per client, so that slow or many clients from a few addresses cost themselves and
 * not everyone. Requests in flight count against the listener and their client; a request that
 * goes on without credentials (RefreshToken, whose body is read unauthenticated) also takes a
 * slot of the smaller unauthenticated budget. A client is its address on the plain listener; on
 * the onion listener every caller arrives from the local Tor, so there the listener's own
 * budget (apart from the plain listener's) is the only one.
 */

/** The budgets of one listener. */
export interface AdmissionLimits {
  maxConnections: number;
  maxConnectionsPerClient: number;
  maxConcurrent: number;
  maxConcurrentPerClient: number;
  maxUnauthenticated: number;
  maxUnauthenticatedPerClient: number;
}

/** Why a request was not admitted: the listener is full, or this client's share is. */
export type Refusal = "listener" | "client";

/** One admitted request's hold on the budgets; release once, when its answer is done. */
export interface Ticket {
  /** Takes an unauthenticated slot too; the refusal when that budget is spent. */
  unauthenticated(): Refusal | undefined;
  release(): void;
}

/** Counts per key, dropping keys at zero so the map only holds clients with something open. */
class Counts {
  private readonly byKey = new Map<string, number>();
  total = 0;

  of(key: string | undefined): number {
    return key === undefined ? 0 : (this.byKey.get(key) ?? 0);
  }

  add(key: string | undefined, delta: 1 | -1): void {
    this.total += delta;
    if (key === undefined) return;
    const next = (this.byKey.get(key) ?? 0) + delta;
    if (next <= 0) this.byKey.delete(key);
    else this.byKey.set(key, next);
  }
}

/** The budgets of one listener and what is held of them. */
export class Admission {
  private readonly connections = new Counts();
  private readonly requests = new Counts();
  private readonly unauthenticated = new Counts();

  constructor(private readonly limits: AdmissionLimits) {}

  /**
   * Takes a connection slot for `client` (undefined: no per-client share); returns the release,
   * or undefined when the listener or the client holds as many connections as allowed.
   */
  connection(client: string | undefined): (() => void) | undefined {
    if (this.connections.total >= this.limits.maxConnections) return undefined;
    if (client !== undefined && this.connections.of(client) >= this.limits.maxConnectionsPerClient)
      return undefined;
    this.connections.add(client, 1);
    return once(() => this.connections.add(client, -1));
  }

  /** Admits a request of `client`, or says which budget is spent. */
  request(client: string | undefined): Ticket | Refusal {
    if (this.requests.total >= this.limits.maxConcurrent) return "listener";
    if (client !== undefined && this.requests.of(client) >= this.limits.maxConcurrentPerClient)
      return "client";
    this.requests.add(client, 1);
    let unauthenticated = false;
    return {
      unauthenticated: () => {
        if (unauthenticated) return undefined;
        if (this.unauthenticated.total >= this.limits.maxUnauthenticated) return "listener";
        if (
          client !== undefined &&
          this.unauthenticated.of(client) >= this.limits.maxUnauthenticatedPerClient
        )
          return "client";
        unauthenticated = true;
        this.unauthenticated.add(client, 1);
        return undefined;
      },
      release: once(() => {
        this.requests.add(client, -1);
        if (unauthenticated) this.unauthenticated.add(client, -1);
      }),
    };
  }

  /** What is held now (metrics, tests). */
  held(): { connections: number; requests: number; unauthenticated: number } {
    return {
      connections: this.connections.total,
      requests: this.requests.total,
      unauthenticated: this.unauthenticated.total,
    };
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
