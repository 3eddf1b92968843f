import { hex } from "@scure/base";
import { toBase58, tryParseAddress } from "../../shared/address.js";
import { APPROVAL_TOPIC, TRANSFER_TOPIC } from "../../tron/trc20.js";
import type { BlockRecord } from "../chain.js";
import { flag, type Handler, RequestError } from "../http.js";
import type { DevnetNode } from "../node.js";
import type { LogRecord, TxRecord } from "../tx-record.js";

/**
 * TronGrid's event API (`/v1/...`), which tronweb's `event` module queries: events of a
 * transaction, of a contract, or of a block. Only the USDT Transfer and Approval events exist.
 */

const EVENTS: Record<string, { name: string; args: [string, string, string]; signature: string }> =
  {
    [TRANSFER_TOPIC]: {
      name: "Transfer",
      args: ["from", "to", "value"],
      signature: "Transfer(address indexed from, address indexed to, uint256 value)",
    },
    [APPROVAL_TOPIC]: {
      name: "Approval",
      args: ["owner", "spender", "value"],
      signature: "Approval(address indexed owner, address indexed spender, uint256 value)",
    },
  };

type Params = Readonly<Record<string, unknown>>;

/** The `/v1/` prefix handler. */
export function eventsHandler(node: DevnetNode): Handler {
  return ({ rawPath, params }) => {
    const parts = rawPath.split("/").filter(Boolean);
    if (parts.length !== 4 || parts[3] !== "events") throw new RequestError("unknown event route");
    const [, kind, key = ""] = parts;
    const blocks = pickBlocks(node, params);
    let events: Record<string, unknown>[];
    if (kind === "transactions") {
      const t = node.chain.data.txs.get(key.toLowerCase());
      events = t && blocks.some((b) => b.number === t.blockNumber) ? eventsOf(node, t) : [];
    } else if (kind === "contracts") {
      const bytes = tryParseAddress(key);
      if (!bytes) throw new RequestError("invalid contract address");
      const address = hex.encode(bytes.subarray(1));
      events = collect(node, blocks, params, (l) => l.address === address);
    } else if (kind === "blocks") {
      const n = key === "latest" ? node.chain.head.number : Number(key);
      events = collect(
        node,
        blocks.filter((b) => b.number === n),
        params,
        () => true,
      );
    } else {
      throw new RequestError("unknown event route");
    }
    return { data: events, success: true, meta: { at: node.clock(), page_size: events.length } };
  };
}

/** Blocks in scope, newest first, honouring only_confirmed / only_unconfirmed. */
function pickBlocks(node: DevnetNode, params: Params): BlockRecord[] {
  const chain = node.chain;
  const from = flag(params.only_unconfirmed) ? chain.solidHeight + 1 : 0;
  const to = flag(params.only_confirmed) ? chain.solidHeight : chain.head.number;
  const out: BlockRecord[] = [];
  for (let n = to; n >= from; n--) {
    const b = chain.block(n);
    if (b) out.push(b);
  }
  return out;
}

function collect(
  node: DevnetNode,
  blocks: BlockRecord[],
  params: Params,
  keep: (l: LogRecord) => boolean,
): Record<string, unknown>[] {
  const limit = Math.min(Number(params.limit ?? 20) || 20, 200);
  const name = typeof params.event_name === "string" ? params.event_name : undefined;
  const min = Number(params.min_block_timestamp ?? 0);
  const max = Number(params.max_block_timestamp ?? Number.MAX_SAFE_INTEGER);
  const out: Record<string, unknown>[] = [];
  for (const b of blocks) {
    if (b.timestamp < min || b.timestamp > max) continue;
    for (const id of b.txIds) {
      const t = node.chain.data.txs.get(id);
      if (!t) continue;
      for (const e of eventsOf(node, t, keep)) {
        if (name && e.event_name !== name) continue;
        out.push(e);
        if (out.length >= limit) return out;
      }
    }
  }
  return out;
}

function eventsOf(
  node: DevnetNode,
  t: TxRecord,
  keep: (l: LogRecord) => boolean = () => true,
): Record<string, unknown>[] {
  return t.logs.flatMap((log, index) => {
    const def = EVENTS[log.topics[0] ?? ""];
    if (!def || !keep(log)) return [];
    const contract = toBase58(hex.decode(`41${log.address}`));
    const values = [
      `0x${(log.topics[1] ?? "").slice(24)}`,
      `0x${(log.topics[2] ?? "").slice(24)}`,
      BigInt(`0x${log.data || "0"}`).toString(),
    ];
    const result: Record<string, string> = {};
    const resultType: Record<string, string> = {};
    def.args.forEach((arg, i) => {
      result[String(i)] = values[i] as string;
      result[arg] = values[i] as string;
      resultType[arg] = i < 2 ? "address" : "uint256";
    });
    return [
      {
        block_number: t.blockNumber,
        block_timestamp: t.blockTimestamp,
        caller_contract_address: contract,
        contract_address: contract,
        event_index: index,
        event_name: def.name,
        result,
        result_type: resultType,
        event: def.signature,
        transaction_id: t.txId,
        ...(t.blockNumber > node.chain.solidHeight ? { _unconfirmed: true } : {}),
      },
    ];
  });
}
