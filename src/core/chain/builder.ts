import { hex } from "@scure/base";
import type { TronWeb } from "tronweb";
import { AppError } from "../../shared/errors.js";
import { refBlockFromBlockId } from "../../tron/block.js";
import { decodeTransactionRaw, type TxRaw, txIdOf } from "../../tron/transaction.js";
import { checkBuilt } from "./check.js";
import type { BuildPlan, HeaderOptions } from "./plans.js";
import type { BlockRef, BuiltTx } from "./types.js";

/** What building needs: tronweb, the head block, and a clock for the timestamp. */
export interface BuilderDeps {
  /** tronweb for the current node; core loads it on the first build. */
  tronWeb(): TronWeb | Promise<TronWeb>;
  head(): Promise<BlockRef>;
  /** Next raw.timestamp in ms; strictly increasing (see createChain). */
  nextTimestamp(): number;
}

const failed = (message: string, cause?: unknown) =>
  new AppError("chain.build_failed", message, { cause });

/**
 * Builds a plan with tronweb on the current head block (expiration = head time + lifetime),
 * then decodes tronweb's bytes strictly and checks them against the plan.
 */
export async function build(deps: BuilderDeps, plan: BuildPlan): Promise<BuiltTx> {
  const refBlock = await deps.head();
  const ref = refBlockFromBlockId(refBlock.number, refBlock.id);
  const header: HeaderOptions = {
    ref_block_bytes: hex.encode(ref.refBlockBytes),
    ref_block_hash: hex.encode(ref.refBlockHash),
    expiration: refBlock.timestamp + plan.lifetimeMs,
    timestamp: deps.nextTimestamp(),
  };
  const tw = await deps.tronWeb();
  let tx: unknown;
  try {
    tx = await plan.build(tw, header);
    if (plan.memo.length > 0) {
      tx = await tw.transactionBuilder.addUpdateData(
        tx as Parameters<TronWeb["transactionBuilder"]["addUpdateData"]>[0],
        `0x${hex.encode(plan.memo)}`,
        "hex",
        { txLocal: true },
      );
    }
  } catch (err) {
    throw failed("tronweb could not build the transaction", err);
  }
  const { rawData, txId } = rawOf(tx);
  const raw = decodeStrict(rawData);
  checkBuilt(raw, {
    contract: plan.contract,
    feeLimit: plan.feeLimit,
    expiration: BigInt(header.expiration),
    timestamp: BigInt(header.timestamp),
    ref,
    data: plan.memo,
  });
  return { rawData, txId, expiration: header.expiration, feeLimit: plan.feeLimit, refBlock };
}

function rawOf(tx: unknown): { rawData: Uint8Array; txId: string } {
  const t = tx as { raw_data_hex?: unknown; txID?: unknown } | undefined;
  if (typeof t?.raw_data_hex !== "string" || !/^([0-9a-fA-F]{2})+$/.test(t.raw_data_hex)) {
    throw failed("tronweb returned no raw_data_hex");
  }
  const rawData = hex.decode(t.raw_data_hex.toLowerCase());
  const txId = txIdOf(rawData);
  if (typeof t.txID !== "string" || t.txID.toLowerCase() !== txId) {
    throw failed("tronweb's txID is not sha256(raw_data_hex)");
  }
  return { rawData, txId };
}

function decodeStrict(rawData: Uint8Array): TxRaw {
  try {
    return decodeTransactionRaw(rawData);
  } catch (err) {
    throw failed("tronweb built bytes that do not decode strictly", err);
  }
}
