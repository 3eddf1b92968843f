import type { ContractType } from "../tron/transaction.js";

/** The contract result java-tron reports in `ret[0].contractRet` and `receipt.result`. */
export type ContractRet = "SUCCESS" | "REVERT" | "OUT_OF_ENERGY";

/** Resource use and fees of one transaction (java-tron's ResourceReceipt). */
export interface Receipt {
  readonly netUsage: bigint;
  readonly netFee: bigint;
  readonly energyUsage: bigint;
  readonly energyFee: bigint;
  readonly energyUsageTotal: bigint;
  /** Set for smart-contract calls only, as java-tron does. */
  readonly result?: ContractRet;
}

/** A contract event log in java-tron's transaction-info shape (20-byte address, no 41). */
export interface LogRecord {
  readonly address: string;
  readonly topics: readonly string[];
  readonly data: string;
}

/** What executing a transaction produced. */
export interface TxOutcome {
  readonly contractRet: ContractRet;
  /** Total sun burned (bandwidth, energy, account creation, memo). */
  readonly fee: bigint;
  readonly receipt: Receipt;
  readonly logs: readonly LogRecord[];
  /** Hex return data of a contract call. */
  readonly contractResult?: string;
  /** 41-hex address of the called contract. */
  readonly contractAddress?: string;
  /** Why a call failed (utf-8 text; hex-encoded on output). */
  readonly resMessage?: string;
  readonly withdrawExpireAmount?: bigint;
}

/** A transaction the devnet accepted, with its outcome and (once included) its block. */
export interface TxRecord extends TxOutcome {
  readonly txId: string;
  readonly rawHex: string;
  /** Lowercase hex signatures as broadcast. */
  readonly signatures: readonly string[];
  /** sha256 of the encoded signed transaction: its Merkle leaf. */
  readonly leaf: string;
  readonly contractType: ContractType;
  /** -1 while pooled. */
  blockNumber: number;
  blockTimestamp: number;
}
