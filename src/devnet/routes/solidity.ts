import type { Handler } from "../http.js";
import type { DevnetNode } from "../node.js";
import { contractHandlers } from "./contract.js";
import { readHandlers } from "./reads.js";

/**
 * All `/walletsolidity/*` handlers: the same reads as `/wallet/*` over the solidified state
 * and blocks (so `gettransactioninfobyid` is `{}` until the block solidifies). Constant calls
 * run on the head state (simplification: the devnet keeps no solidified contract VM).
 */
export function solidityRoutes(node: DevnetNode): Map<string, Handler> {
  const { getcontract, triggerconstantcontract, estimateenergy } = contractHandlers(node);
  const handlers: Record<string, Handler | undefined> = {
    ...readHandlers(node, true),
    getcontract,
    triggerconstantcontract,
    estimateenergy,
  };
  const out = new Map<string, Handler>();
  for (const [k, h] of Object.entries(handlers)) {
    if (h) out.set(`/walletsolidity/${k.toLowerCase()}`, h);
  }
  return out;
}
