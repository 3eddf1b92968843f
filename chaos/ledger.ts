import { hex } from "@scure/base";
import type { RunningDevnet } from "../src/devnet/devnet.js";
import { WorldState } from "../src/devnet/state.js";
import { TrackedState } from "../src/devnet/store.js";
import { parseAddress, toHex41 } from "../src/shared/address.js";
import { decodeTransactionRaw } from "../src/tron/transaction.js";
import { decodeCall } from "../src/tron/trc20.js";

/**
 * What the devnet's chain says was paid, read from its solidified blocks and state — never
 * from tronpay's database: the chaos invariants must hold on the ledger itself.
 */

/** One successful payment found on chain. */
export interface ChainPayment {
  txId: string;
  asset: "TRX" | "USDT";
  amount: bigint;
  block: number;
}

/** Successful TRX transfers and USDT transfer() calls per recipient (41-hex), solidified only. */
export function paymentsByRecipient(devnet: RunningDevnet): Map<string, ChainPayment[]> {
  const chain = devnet.node.chain;
  const usdt = toHex41(parseAddress(devnet.usdtAddress));
  const out = new Map<string, ChainPayment[]>();
  for (let n = 1; n <= chain.solidHeight; n++) {
    const block = chain.block(n);
    for (const txId of block?.txIds ?? []) {
      const record = chain.data.txs.get(txId);
      if (record?.contractRet !== "SUCCESS") continue;
      const p = paymentOf(hex.decode(record.rawHex), usdt);
      if (!p) continue;
      const list = out.get(p.to) ?? [];
      list.push({ txId, asset: p.asset, amount: p.amount, block: n });
      out.set(p.to, list);
    }
  }
  return out;
}

function paymentOf(
  raw: Uint8Array,
  usdtHex41: string,
): { to: string; asset: "TRX" | "USDT"; amount: bigint } | undefined {
  const c = decodeTransactionRaw(raw).contract;
  if (c.type === "TransferContract") return { to: toHex41(c.to), asset: "TRX", amount: c.amount };
  if (c.type !== "TriggerSmartContract" || toHex41(c.contract) !== usdtHex41) return undefined;
  const call = decodeCall(c.data);
  if (call.method !== "transfer") return undefined;
  return { to: toHex41(call.to), asset: "USDT", amount: call.amount };
}

/** A recipient's solidified balance of `asset` (sun or USDT base units). */
export function solidBalance(devnet: RunningDevnet, address: string, asset: "TRX" | "USDT") {
  const ws = new WorldState(new TrackedState(devnet.node.chain.data.solid));
  const h = toHex41(parseAddress(address));
  return asset === "TRX" ? (ws.account(h)?.balance ?? 0n) : ws.tokenBalance(h);
}
