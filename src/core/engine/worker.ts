import { reasonOf } from "../../shared/errors.js";
import { sharedRead } from "../chain/cache.js";
import { emitEvent } from "../kernel/outbox.js";
import type { EngineDeps } from "./deps.js";
import { watchNodeGate } from "./node-gate.js";
import { claimDue, type OperationRow, reschedule, StateChanged } from "./repo.js";
import { settleAttempt } from "./settle.js";
import { recheckHold, signAndSend } from "./sign.js";

/** While signing is paused for the node, how often the engine reads the head as a probe (ms). */
const NODE_PROBE_MS = 2_000;

/** A running engine in this process. */
export interface Engine {
  /** Runs one claim-and-work round now (tests use it to step deterministically). */
  tick(): Promise<number>;
  stop(): Promise<void>;
}

/** Runs one step of an operation according to its state. */
export async function step(deps: EngineDeps, op: OperationRow): Promise<void> {
  switch (op.state) {
    case "QUEUED":
      return signAndSend(deps, op);
    case "HELD":
      return recheckHold(deps, op);
    case "SIGNED":
    case "BROADCAST":
      return settleAttempt(deps, op);
    default:
      return;
  }
}

/**
 * The engine loop: claim due operations up to `concurrency` in flight, step each, repeat;
 * sleep `pollMs` when there is nothing to do. A step that throws is logged and retried later
 * (its lease runs out); nothing it had committed is lost.
 */
export function startEngine(
  given: EngineDeps,
  options: { concurrency: number; pollMs: number; autostart?: boolean },
): Engine {
  // Funds checks of many operations from one wallet share one read of its balances while it is
  // fresh; the chain is the judge anyway (a stale read signs a payout the node then refuses or
  // holds back one the next check lets through).
  const deps: EngineDeps = {
    ...given,
    chain: {
      ...given.chain,
      balances: sharedRead((a: string) => given.chain.balances(a), given.readMaxAgeMs ?? 0),
    },
    // Read once per poll interval, not once per operation: a pause takes effect within one.
    isPaused: (
      (read) => () =>
        read(undefined)
    )(sharedRead(() => given.isPaused(), options.pollMs)),
  };
  const inflight = new Set<Promise<void>>();
  let stopped = false;
  const gate = watchNodeGate({ ...deps, probeMs: NODE_PROBE_MS });
  let wake: (() => void) | undefined;

  // node.unreachable goes to the outbox at most once a minute per process, not per operation.
  let lastNodeReport = 0;
  const reportNodeUnreachable = async () => {
    const now = deps.clock();
    if (now - lastNodeReport < 60_000) return;
    lastNodeReport = now;
    await emitEvent(deps.pool, "node.unreachable", {
      reason: "node.unavailable",
      at: new Date(lastNodeReport).toISOString(),
    }).catch(() => {});
  };

  const runOne = (op: OperationRow) => {
    const p = step(deps, op)
      .catch(async (err) => {
        if (err instanceof StateChanged) return;
        if (reasonOf(err) === "node.unavailable") await reportNodeUnreachable();
        deps.log.error(
          { operationId: op.id, state: op.state, err },
          "engine step failed; will retry",
        );
        await reschedule(deps.pool, op.id, Math.min(deps.settings.leaseMs, 5_000)).catch(() => {});
      })
      .finally(() => {
        inflight.delete(p);
        wake?.();
      });
    inflight.add(p);
  };

  const tick = async (): Promise<number> => {
    // While every node's breaker is open, QUEUED and HELD work waits where it is (node-gate.ts).
    const ops = await claimDue(
      deps.pool,
      options.concurrency - inflight.size,
      deps.settings.leaseMs,
      deps.chain.anyNodeAvailable(),
    );
    for (const op of ops) runOne(op);
    return ops.length;
  };

  const loop = async () => {
    while (!stopped) {
      let claimed = 0;
      try {
        claimed = await tick();
      } catch (err) {
        deps.log.error({ err }, "engine claim failed");
      }
      if (stopped) break;
      const full = inflight.size >= options.concurrency;
      if (claimed === 0 || full) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, full ? options.pollMs * 4 : options.pollMs);
        });
        wake = undefined;
      }
    }
  };
  const running = options.autostart === false ? Promise.resolve() : loop();

  return {
    tick,
    async stop() {
      stopped = true;
      gate.stop();
      wake?.();
      await running;
      await Promise.allSettled([...inflight]);
    },
  };
}
