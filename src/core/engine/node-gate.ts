import type { DatabasePool } from "slonik";
import type { Logger } from "../../shared/log.js";
import type { Chain } from "../chain/types.js";
import { appendAudit } from "../kernel/audit.js";
import { ENGINE_ACTOR } from "./deps.js";

/** A running watch over the node breakers. */
export interface NodeGate {
  stop(): void;
}

/**
 * Signing new attempts pauses while every TRON node's circuit breaker is open (signAndSend
 * asks chain.anyNodeAvailable()); queued operations stay QUEUED. This watch logs and audits
 * the pause and the resume once each, and while paused reads the head every `probeMs`: a
 * breaker only becomes half-open when a call comes, so without it signing could wait for
 * other traffic to reach the node.
 */
export function watchNodeGate(deps: {
  pool: DatabasePool;
  chain: Chain;
  log: Logger;
  probeMs: number;
}): NodeGate {
  let probe: NodeJS.Timeout | undefined;
  const record = (action: string, pausedAt: number) =>
    deps.pool
      .transaction((tx) =>
        appendAudit(tx, {
          actor: ENGINE_ACTOR,
          action,
          subject: "node",
          details: {
            nodeUrl: deps.chain.status().nodeUrl,
            pausedAt: new Date(pausedAt).toISOString(),
          },
        }),
      )
      .catch((err: unknown) =>
        deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, "audit failed"),
      );
  let pausedAt = 0;
  const unsubscribe = deps.chain.onAvailabilityChange((available) => {
    if (!available) {
      pausedAt = Date.now();
      deps.log.warn(
        { nodeUrl: deps.chain.status().nodeUrl },
        "signing paused: every TRON node's circuit breaker is open",
      );
      void record("signing.paused", pausedAt);
      probe ??= setInterval(() => void deps.chain.head().catch(() => {}), deps.probeMs);
      probe.unref();
    } else {
      deps.log.info(
        { nodeUrl: deps.chain.status().nodeUrl, pausedMs: Date.now() - pausedAt },
        "signing resumed: a TRON node answers again",
      );
      void record("signing.resumed", pausedAt);
      clearInterval(probe);
      probe = undefined;
    }
  });
  return {
    stop() {
      unsubscribe();
      clearInterval(probe);
    },
  };
}
