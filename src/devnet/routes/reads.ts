import type { BlockRecord } from "../chain.js";
import { flag, type Handler, intParam, RequestError } from "../http.js";
import type { DevnetNode } from "../node.js";
import {
  accountJson,
  accountResourceJson,
  blockJson,
  transactionInfoJson,
  transactionWithRet,
} from "../render.js";
import { delegationsOf, type StakeResource, type WorldState } from "../state.js";
import type { TxRecord } from "../tx-record.js";
import { addressParam, bigParam, idParam } from "./params.js";

/**
 * Reads served by both `/wallet/*` (head) and `/walletsolidity/*` (solidified): the same
 * handlers over the head or the solidified state, blocks and transactions.
 */
export function readHandlers(node: DevnetNode, solid: boolean): Record<string, Handler> {
  const view = new ChainView(node, solid);
  return { ...blockReads(view), ...txReads(view), ...accountReads(view), ...stakeReads(view) };
}

/** What one side (head or solidified) can see. */
class ChainView {
  constructor(
    readonly node: DevnetNode,
    readonly solid: boolean,
  ) {}

  get top(): number {
    return this.solid ? this.node.chain.solidHeight : this.node.chain.head.number;
  }

  get now(): number {
    return this.node.chain.head.timestamp;
  }

  block(n: number): BlockRecord | undefined {
    return n >= 0 && n <= this.top ? this.node.chain.block(n) : undefined;
  }

  blockById(id: string): BlockRecord | undefined {
    if (!/^[0-9a-fA-F]{64}$/.test(id)) throw new RequestError("block id must be 64 hex characters");
    const b = this.block(Number.parseInt(id.slice(0, 16), 16));
    return b && b.id === id.toLowerCase() ? b : undefined;
  }

  tx = (id: string): TxRecord | undefined => this.node.chain.data.txs.get(id);

  /** A transaction included at or below the visible height. */
  includedTx(id: string): TxRecord | undefined {
    const t = this.tx(id);
    return t && t.blockNumber >= 0 && t.blockNumber <= this.top ? t : undefined;
  }

  blockOut(b: BlockRecord | undefined, detail: boolean): unknown {
    return b ? blockJson(b, this.tx, detail) : {};
  }

  state(): WorldState {
    return this.node.view(this.solid);
  }
}

function blockReads(v: ChainView): Record<string, Handler> {
  return {
    getnowblock: () => v.blockOut(v.block(v.top), true),
    getblock: ({ params }) => {
      const detail = flag(params.detail);
      const idOrNum = params.id_or_num;
      if (idOrNum === undefined || idOrNum === "") return v.blockOut(v.block(v.top), detail);
      const text = String(idOrNum);
      if (/^[0-9]+$/.test(text)) return v.blockOut(v.block(Number(text)), detail);
      return v.blockOut(v.blockById(text), detail);
    },
    getblockbynum: ({ params }) => v.blockOut(v.block(intParam(params, "num") ?? -1), true),
    getblockbyid: ({ params }) => v.blockOut(v.blockById(idParam(params, "value")), true),
    getblockbylimitnext: ({ params }) => {
      const start = intParam(params, "startNum") ?? 0;
      const end = Math.min(intParam(params, "endNum") ?? 0, start + 100, v.top + 1);
      const blocks: unknown[] = [];
      for (let n = start; n < end; n++) blocks.push(v.blockOut(v.block(n), true));
      return blocks.length ? { block: blocks } : {};
    },
  };
}

function txReads(v: ChainView): Record<string, Handler> {
  return {
    gettransactionbyid: ({ params }) => {
      const t = v.includedTx(idParam(params, "value"));
      return t ? transactionWithRet(t) : {};
    },
    gettransactioninfobyid: ({ params }) => {
      const t = v.includedTx(idParam(params, "value"));
      return t ? transactionInfoJson(t) : {};
    },
    gettransactioninfobyblocknum: ({ params }) => {
      const b = v.block(intParam(params, "num") ?? -1);
      return (b?.txIds ?? []).flatMap((id) => {
        const t = v.tx(id);
        return t ? [transactionInfoJson(t)] : [];
      });
    },
  };
}

function accountReads(v: ChainView): Record<string, Handler> {
  const resources = (params: Readonly<Record<string, unknown>>) => {
    const ws = v.state();
    const a = ws.account(addressParam(params, "address"));
    return accountResourceJson(a, ws.stakeTotals(), v.now, v.node.params);
  };
  return {
    getaccount: ({ params }) => {
      const address = addressParam(params, "address");
      return accountJson(address, v.state().account(address));
    },
    getaccountresource: ({ params }) => resources(params),
    getaccountnet: ({ params }) => {
      const { freeNetUsed, freeNetLimit, NetUsed, NetLimit, TotalNetLimit, TotalNetWeight } =
        resources(params);
      return { freeNetUsed, freeNetLimit, NetUsed, NetLimit, TotalNetLimit, TotalNetWeight };
    },
  };
}

function stakeReads(v: ChainView): Record<string, Handler> {
  return {
    getdelegatedresourcev2: ({ params }) =>
      delegatedResource(
        v.state(),
        addressParam(params, "fromAddress"),
        addressParam(params, "toAddress"),
      ),
    getdelegatedresourceaccountindexv2: ({ params }) => {
      const address = addressParam(params, "value");
      const all = delegationsOf(v.node.stateMap(v.solid), address);
      const out: Record<string, unknown> = { account: address };
      const from = [...new Set(all.filter((d) => d.to === address).map((d) => d.from))];
      const to = [...new Set(all.filter((d) => d.from === address).map((d) => d.to))];
      if (from.length) out.fromAccounts = from;
      if (to.length) out.toAccounts = to;
      return out;
    },
    getcanwithdrawunfreezeamount: ({ params }) => {
      const a = v.state().account(addressParam(params, "owner_address"));
      const at = Number(bigParam(params, "timestamp")) || v.now;
      const amount = (a?.unfrozen ?? [])
        .filter((u) => u.expireTime <= at)
        .reduce((s, u) => s + u.amount, 0n);
      return amount > 0n ? { amount } : {};
    },
    getavailableunfreezecount: ({ params }) => {
      const a = v.state().account(addressParam(params, "owner_address"));
      const pending = (a?.unfrozen ?? []).filter((u) => u.expireTime > v.now).length;
      return { count: v.node.params.maxPendingUnfreezes - pending };
    },
    getcandelegatedmaxsize: ({ params }) => {
      const a = v.state().account(addressParam(params, "owner_address"));
      const r: StakeResource = Number(params.type ?? 0) === 1 ? "ENERGY" : "BANDWIDTH";
      const size = a?.frozen[r] ?? 0n;
      return size > 0n ? { max_size: size } : {};
    },
  };
}

function delegatedResource(ws: WorldState, from: string, to: string): unknown {
  const bw = ws.delegation(from, to, "BANDWIDTH");
  const en = ws.delegation(from, to, "ENERGY");
  if (!bw && !en) return {};
  const entry: Record<string, unknown> = { from, to };
  if (bw) {
    entry.frozen_balance_for_bandwidth = bw.balance;
    if (bw.expireTime) entry.expire_time_for_bandwidth = bw.expireTime;
  }
  if (en) {
    entry.frozen_balance_for_energy = en.balance;
    if (en.expireTime) entry.expire_time_for_energy = en.expireTime;
  }
  return { delegatedResource: [entry] };
}
