import { refBlockFromBlockId } from "../../tron/block.js";
import { TronDecodeError } from "../../tron/decode-error.js";
import { transactionToJson } from "../../tron/json.js";
import { contractValueFromJson } from "../../tron/json-contract.js";
import { type ContractType, encodeTransactionRaw, type TxRaw } from "../../tron/transaction.js";
import { type Handler, RequestError } from "../http.js";
import type { DevnetNode } from "../node.js";
import { bigParam } from "./params.js";

/** java-tron's default expiration for server-built transactions: head time + 60 s. */
const EXPIRATION_MS = 60_000;

/** TaPoS fields, expiration and timestamp for a transaction built now on the head block. */
export function headReference(
  node: DevnetNode,
): Pick<TxRaw, "refBlockBytes" | "refBlockHash" | "expiration" | "timestamp"> {
  const head = node.chain.head;
  const ref = refBlockFromBlockId(BigInt(head.number), head.id);
  return {
    refBlockBytes: ref.refBlockBytes,
    refBlockHash: ref.refBlockHash,
    expiration: BigInt(head.timestamp + EXPIRATION_MS),
    timestamp: BigInt(node.clock()),
  };
}

const BUILDERS: Readonly<Record<string, ContractType>> = {
  createtransaction: "TransferContract",
  freezebalancev2: "FreezeBalanceV2Contract",
  unfreezebalancev2: "UnfreezeBalanceV2Contract",
  delegateresource: "DelegateResourceContract",
  undelegateresource: "UnDelegateResourceContract",
  withdrawexpireunfreeze: "WithdrawExpireUnfreezeContract",
  cancelallunfreezev2: "CancelAllUnfreezeV2Contract",
};

/**
 * java-tron's server-side builders (tronweb 6 builds these locally, other clients may not):
 * the request body is the contract's JSON value; the answer is the unsigned transaction.
 * Unlike java-tron they do not pre-validate the contract; the broadcast does.
 */
export function builderHandlers(node: DevnetNode): Record<string, Handler> {
  const out: Record<string, Handler> = {};
  for (const [path, type] of Object.entries(BUILDERS)) {
    out[path] = ({ params }) => {
      let contract: TxRaw["contract"];
      try {
        contract = contractValueFromJson(type, params as Record<string, unknown>);
      } catch (err) {
        if (err instanceof TronDecodeError) throw new RequestError(err.message);
        throw err;
      }
      const raw: TxRaw = {
        ...headReference(node),
        feeLimit: 0n,
        data: new Uint8Array(0),
        contract,
        permissionId: Number(bigParam(params, "Permission_id")),
      };
      return transactionToJson(encodeTransactionRaw(raw));
    };
  }
  return out;
}
