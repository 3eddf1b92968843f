import { toBase58, tryParseAddress } from "../../shared/address.js";
import { blockNumberOfId } from "../../tron/block.js";
import type { NodeClient } from "./node-client.js";
import {
  asObject,
  badResponse,
  idField,
  intField,
  objField,
  smallIntField,
  strField,
} from "./node-json.js";
import type { BlockHeader, BlockRef, BlockSelector } from "./types.js";

/** The head block; getblock without detail, so a busy block costs no transaction bodies. */
export async function readHead(client: NodeClient): Promise<BlockRef> {
  const block = parseBlock(await client.read("/wallet/getblock", { detail: false }), "head");
  if (!block) throw badResponse("the node has no head block");
  return refOf(block);
}

/** The latest solidified block. */
export async function readSolidified(client: NodeClient): Promise<BlockRef> {
  const block = parseBlock(await client.read("/walletsolidity/getnowblock"), "solidified");
  if (!block) throw badResponse("the node has no solidified block");
  return refOf(block);
}

/** A block header by number, or the head or latest solidified; undefined if there is none. */
export async function readBlock(
  client: NodeClient,
  which: BlockSelector,
): Promise<BlockHeader | undefined> {
  if (which === "latest") return parseBlock(await client.read("/wallet/getnowblock"), "block");
  if (which === "solidified") {
    return parseBlock(await client.read("/walletsolidity/getnowblock"), "block");
  }
  return parseBlock(await client.read("/wallet/getblockbynum", { num: which }), "block");
}

/**
 * Maps java-tron's block JSON into a header; `{}` is undefined. The id must start with the
 * number, as block ids do, so a confused node cannot hand us another block's id.
 */
export function parseBlock(json: unknown, what: string): BlockHeader | undefined {
  const o = asObject(json, what);
  if (Object.keys(o).length === 0) return undefined;
  const id = idField(o, "blockID", what);
  const raw = objField(objField(o, "block_header", what), "raw_data", `${what}.block_header`);
  const where = `${what}.block_header.raw_data`;
  const number = intField(raw, "number", where);
  if (blockNumberOfId(id) !== number) throw badResponse(`${what}: blockID does not match number`);
  const parent = strField(raw, "parentHash", where);
  const witnessHex = strField(raw, "witness_address", where);
  const witness = witnessHex === "" ? undefined : tryParseAddress(witnessHex);
  if (witnessHex !== "" && !witness)
    throw badResponse(`${where}.witness_address is not an address`);
  const txs = o.transactions;
  if (txs !== undefined && !Array.isArray(txs))
    throw badResponse(`${what}.transactions is not a list`);
  return {
    number,
    id,
    timestamp: smallIntField(raw, "timestamp", where),
    parentId: parent === "" ? "" : idField(raw, "parentHash", where),
    witness: witness ? toBase58(witness) : "",
    transactionCount: txs?.length ?? 0,
  };
}

function refOf(b: BlockHeader): BlockRef {
  return { number: b.number, id: b.id, timestamp: b.timestamp };
}
