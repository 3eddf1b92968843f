import { z } from "zod";
import { toBase58 } from "../../shared/address.js";
import { type Handler, RequestError } from "../http.js";
import type { DevnetNode } from "../node.js";
import type { ConnectionLog } from "../server.js";
import { USDT_ADDRESS } from "../usdt.js";
import { addressParam, bigParam } from "./params.js";

/** What the admin routes need besides the node. */
export interface AdminDeps {
  readonly node: DevnetNode;
  readonly connections: ConnectionLog;
  readonly genesisAddress: string;
  /** Saves the state now; returns the file, or undefined without a state file. */
  readonly persistNow: () => string | undefined;
}

const timingSchema = z.object({
  blockTimeMs: z.coerce.number().int().min(2).optional(),
  solidLag: z.coerce.number().int().min(0).optional(),
  /** false stops the block timer (blocks only through /admin/mine); true restarts it. */
  autoMine: z.boolean().optional(),
});

/** `/admin/*`: funding, mining, timing, faults, connection log, clock, snapshot. */
export function adminRoutes(deps: AdminDeps): Map<string, Handler> {
  const { node, connections } = deps;
  const status = () => ({
    head: node.chain.head.number,
    headTimestamp: node.chain.head.timestamp,
    solidified: node.chain.solidHeight,
    blockTimeMs: node.chain.blockTimeMs,
    autoMine: node.autoMining,
    solidLag: node.chain.solidLag,
    pooled: node.chain.data.pool.length,
    usdtAddress: toBase58(USDT_ADDRESS),
    genesisAddress: deps.genesisAddress,
    faults: node.faults.settings,
  });
  const handlers: Record<string, Handler> = {
    status,
    fund: ({ params }) => {
      const address = addressParam(params, "address");
      node.fund(address, bigParam(params, "trx"), bigParam(params, "usdt"));
      const mine = Number(bigParam(params, "mine"));
      if (mine > 0) node.mine(mine);
      return status();
    },
    mine: ({ params }) => {
      const n = Number(bigParam(params, "blocks")) || 1;
      if (n > 100_000) throw new RequestError("at most 100000 blocks at once");
      node.mine(n);
      return status();
    },
    timing: ({ params }) => {
      node.setTiming(parse(timingSchema, params));
      return status();
    },
    faults: ({ method, params }) => {
      if (method !== "POST") return node.faults.settings;
      const { int64_as_string: _ignored, ...patch } = params;
      try {
        return node.setFaults(patch);
      } catch (err) {
        throw new RequestError(`invalid faults: ${(err as Error).message}`);
      }
    },
    "faults/reset": () => node.resetFaults(),
    connections: () => ({ connections: connections.snapshot() }),
    "connections/reset": () => {
      connections.reset();
      return { connections: [] };
    },
    clock: ({ params }) => {
      node.advanceClock(Number(bigParam(params, "advanceMs")));
      return status();
    },
    snapshot: () => ({ file: deps.persistNow() ?? null }),
  };
  return new Map(Object.entries(handlers).map(([k, h]) => [`/admin/${k}`, h]));
}

function parse<T>(schema: z.ZodType<T>, params: unknown): T {
  const r = schema.safeParse(params);
  if (!r.success) throw new RequestError(r.error.issues.map((i) => i.message).join("; "));
  return r.data;
}
