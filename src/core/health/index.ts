import type { Client } from "@connectrpc/connect";
import type { Redis } from "ioredis";
import type { DatabasePool } from "slonik";
import { Health } from "../../gen/health/v1/health_pb.js";
import type { SignerService } from "../../gen/tronpay/signer/v1/signer_pb.js";
import { publicServices } from "../../shared/api.js";
import type { Logger } from "../../shared/log.js";
import type { Chain } from "../chain/types.js";
import { type DependencyProbe, type HealthMonitor, startHealthMonitor } from "./monitor.js";
import { dependencyProbes, serviceNeeds } from "./probes.js";

export type { HealthMonitor } from "./monitor.js";
export { createHealthHandlers } from "./service.js";

// Probes are cheap (SELECT 1, PING, GetPolicy on a Unix socket, an in-memory node status).
const PROBE_INTERVAL_MS = 2_000;
const PROBE_TIMEOUT_MS = 2_000;

/**
 * Core's dependency probes and the health monitor over them, probed once before this
 * resolves; a change of node availability (a breaker opening or closing) probes at once.
 * Names: "" is core as a whole (readiness: every dependency); each public service needs what
 * probes.ts says; "grpc.health.v1.Health" needs nothing, so it answers SERVING while the
 * process serves (liveness: restarting core does not bring a node back).
 */
export async function startCoreHealth(deps: {
  pool: DatabasePool;
  redis?: Redis;
  signer: Client<typeof SignerService>;
  chain: Chain;
  log: Logger;
}): Promise<{ monitor: HealthMonitor; probes: DependencyProbe[]; stop(): void }> {
  const probes = dependencyProbes(deps);
  const monitor = startHealthMonitor({
    probes,
    needs: { ...serviceNeeds(publicServices.map((s) => s.typeName)), [Health.typeName]: [] },
    intervalMs: PROBE_INTERVAL_MS,
    timeoutMs: PROBE_TIMEOUT_MS,
    log: deps.log,
  });
  const unsubscribe = deps.chain.onAvailabilityChange(() => void monitor.refresh());
  await monitor.refresh();
  return {
    monitor,
    probes,
    stop() {
      unsubscribe();
      monitor.stop();
    },
  };
}
