import type { Logger } from "../../shared/log.js";

/** What core depends on, each checked by one probe. */
export type Dependency = "postgres" | "redis" | "signer" | "node";

/** One dependency's check: resolves when it works, throws (or times out) when it does not. */
export interface DependencyProbe {
  name: Dependency;
  check: () => Promise<void>;
}

/**
 * The serving state of core's services from its dependencies, probed every `intervalMs` (and
 * on demand with refresh()) so that health checks answer from memory and never hang.
 */
export interface HealthMonitor {
  /** Whether `service` can serve ("" is core as a whole); undefined for a service not known. */
  serving(service: string): boolean | undefined;
  /** Every service name known, "" first. */
  services(): string[];
  /** The dependencies failing at the last probe. */
  failing(): Dependency[];
  /** Calls `listener` after every probe round that changed something; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
  /** Probes now (rounds do not overlap: a call during one waits for it). */
  refresh(): Promise<void>;
  /** Aborted once stop() is called (open Watch streams end then). */
  readonly stopped: AbortSignal;
  stop(): void;
}

/**
 * Starts probing. `needs` maps each service name to the dependencies it needs; "" (overall)
 * needs every probed one. A dependency that has no probe (Redis when not configured) counts
 * as working.
 */
export function startHealthMonitor(options: {
  probes: readonly DependencyProbe[];
  needs: Readonly<Record<string, readonly Dependency[]>>;
  intervalMs: number;
  timeoutMs: number;
  log: Logger;
}): HealthMonitor {
  const { probes, needs, log } = options;
  let down = new Set<Dependency>(probes.map((p) => p.name));
  let round: Promise<void> | undefined;
  const listeners = new Set<() => void>();
  const stopper = new AbortController();

  const probeOnce = async () => {
    const results = await Promise.all(
      probes.map(async (p) => ((await withTimeout(p.check(), options.timeoutMs)) ? p.name : null)),
    );
    const next = new Set(results.filter((r): r is Dependency => r !== null));
    if (sameSet(next, down)) return;
    const was = [...down];
    down = next;
    if (next.size === 0) log.info({ was }, "health: every dependency works");
    else log.warn({ failing: [...next], was }, "health: dependencies failing");
    for (const listener of listeners) listener();
  };

  const refresh = () => {
    round ??= probeOnce().finally(() => {
      round = undefined;
    });
    return round;
  };

  const timer = setInterval(() => void refresh(), options.intervalMs);
  timer.unref();

  const serving = (service: string): boolean | undefined => {
    if (service === "") return down.size === 0;
    const deps = needs[service];
    if (!deps) return undefined;
    return deps.every((d) => !down.has(d));
  };

  return {
    serving,
    services: () => ["", ...Object.keys(needs).filter((s) => s !== "")],
    failing: () => [...down],
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    refresh,
    stopped: stopper.signal,
    stop() {
      clearInterval(timer);
      stopper.abort();
    },
  };
}

/** Resolves true when `check` failed or did not finish within `ms`. */
async function withTimeout(check: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), ms);
  });
  try {
    return await Promise.race([check.then(() => false), late]);
  } catch {
    return true;
  } finally {
    clearTimeout(timer);
  }
}

function sameSet<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
