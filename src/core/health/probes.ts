import type { Client } from "@connectrpc/connect";
import type { Redis } from "ioredis";
import type { DatabasePool } from "slonik";
import type { SignerService } from "../../gen/tronpay/signer/v1/signer_pb.js";
import type { Chain } from "../chain/types.js";
import { pingDatabase } from "../db/locks.js";
import type { Dependency, DependencyProbe } from "./monitor.js";

const SIGNER_TIMEOUT_MS = 1_500;

/**
 * The checks of what core depends on, shared by readiness (/readyz) and the gRPC health
 * service: PostgreSQL answers, Redis answers (when configured), the signer answers GetPolicy,
 * and the TRON node in use answers with its circuit breaker closed.
 */
export function dependencyProbes(deps: {
  pool: DatabasePool;
  redis?: Redis;
  signer: Client<typeof SignerService>;
  chain: Chain;
}): DependencyProbe[] {
  const probes: DependencyProbe[] = [
    { name: "postgres", check: () => pingDatabase(deps.pool) },
    {
      name: "signer",
      check: async () => void (await deps.signer.getPolicy({}, { timeoutMs: SIGNER_TIMEOUT_MS })),
    },
    {
      name: "node",
      check: async () => {
        if (deps.chain.status().reachable) return;
        // Not known to answer (no call yet, or the last one failed): ask it. With every breaker
        // open this fails at once without a request, except as a breaker's half-open probe.
        await deps.chain.head();
        if (!deps.chain.status().reachable)
          throw new Error("TRON node unreachable or breaker open");
      },
    },
  ];
  const redis = deps.redis;
  if (redis) probes.push({ name: "redis", check: async () => void (await redis.ping()) });
  return probes;
}

/**
 * What each public service needs besides PostgreSQL and Redis (every call needs those: API
 * keys, audit and rate limits): the signer for services that sign or derive keys, the node
 * for services that read or write the chain.
 */
const EXTRA_NEEDS: Readonly<Record<string, readonly Dependency[]>> = {
  "tronpay.v1.PayoutService": ["signer", "node"],
  "tronpay.v1.PayeeService": [],
  "tronpay.v1.WalletService": ["signer", "node"],
  "tronpay.v1.UsdtService": ["signer", "node"],
  "tronpay.v1.StakingService": ["signer", "node"],
  "tronpay.v1.OperationService": [],
  "tronpay.v1.NetworkService": ["node"],
  "tronpay.v1.WebhookService": [],
  "tronpay.v1.AdminService": [],
};

/** The health monitor's table for the given services; throws for a service not in it. */
export function serviceNeeds(services: readonly string[]): Record<string, Dependency[]> {
  const needs: Record<string, Dependency[]> = {};
  for (const service of services) {
    const extra = EXTRA_NEEDS[service];
    if (!extra) throw new Error(`health: no dependencies declared for ${service}`);
    needs[service] = ["postgres", "redis", ...extra];
  }
  return needs;
}
