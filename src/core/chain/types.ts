import type { Resource } from "../../tron/transaction.js";

/** A block as the builder and the engine need it. */
export interface BlockRef {
  number: bigint;
  /** Lowercase hex block id. */
  id: string;
  /** Block time, ms since the epoch. */
  timestamp: number;
}

/** A block header with what NetworkService shows. */
export interface BlockHeader extends BlockRef {
  /** Lowercase hex id of the parent block. */
  parentId: string;
  /** Producer, base58check; empty for a block without one (genesis). */
  witness: string;
  transactionCount: number;
}

/** Which block: a number, the head, or the latest solidified. */
export type BlockSelector = bigint | "latest" | "solidified";

/** What a transfer build asks for; addresses in any accepted form, amounts in base units. */
export interface TransferRequest {
  kind: "TRX_TRANSFER" | "USDT_TRANSFER" | "USDT_APPROVE";
  owner: string;
  /** Recipient; for USDT_APPROVE the spender. */
  to: string;
  amount: bigint;
  memo?: string;
  /** Required for USDT kinds, refused for TRX. */
  feeLimit?: bigint;
  /** expiration = reference block time + lifetimeMs; 3 s to 24 h. */
  lifetimeMs: number;
}

/** A staking resource that can be frozen or delegated. */
export type StakeResource = Extract<Resource, "BANDWIDTH" | "ENERGY">;

/** What a stake build asks for (Stake 2.0). */
export type StakeRequest = { owner: string; lifetimeMs: number } & (
  | { kind: "FREEZE"; amount: bigint; resource: StakeResource }
  | { kind: "UNFREEZE"; amount: bigint; resource: StakeResource }
  | {
      kind: "DELEGATE";
      amount: bigint;
      resource: StakeResource;
      receiver: string;
      /** Lock period in blocks (3 s each); undefined means no lock. */
      lockPeriod?: bigint;
    }
  | { kind: "UNDELEGATE"; amount: bigint; resource: StakeResource; receiver: string }
  | { kind: "WITHDRAW_EXPIRE_UNFREEZE" }
);

/** An unsigned transaction, checked against its request. */
export interface BuiltTx {
  rawData: Uint8Array;
  txId: string;
  /** ms since the epoch. */
  expiration: number;
  /** 0 for non-VM transactions. */
  feeLimit: bigint;
  refBlock: BlockRef;
}

/** What a broadcast produced; "unknown" means the transaction may have been accepted. */
export type BroadcastResult =
  | { outcome: "accepted" }
  | { outcome: "duplicate" }
  | { outcome: "rejected"; code: RejectCode; message: string }
  | { outcome: "unknown"; detail: string };

/** java-tron broadcast codes that prove the transaction was not accepted. */
export type RejectCode =
  | "SIGERROR"
  | "CONTRACT_VALIDATE_ERROR"
  | "CONTRACT_EXE_ERROR"
  | "BANDWITH_ERROR"
  | "TAPOS_ERROR"
  | "TOO_BIG_TRANSACTION_ERROR"
  | "TRANSACTION_EXPIRATION_ERROR";

/** An included transaction's receipt. */
export interface TxInfo {
  txId: string;
  blockNumber: bigint;
  /** ms since the epoch. */
  blockTime: number;
  /** SUCCESS, REVERT, OUT_OF_ENERGY, FAILED or another java-tron contractResult name. */
  result: string;
  /** Everything burned: bandwidth, energy, activation, memo. */
  feeSun: bigint;
  energyUsed: bigint;
  energyFeeSun: bigint;
  netUsed: bigint;
  netFeeSun: bigint;
  /** The node's resMessage (revert reason) as text, when there is one. */
  message?: string;
}

/** Bandwidth points of an account. */
export interface BandwidthState {
  freeLimit: bigint;
  freeUsed: bigint;
  stakedLimit: bigint;
  stakedUsed: bigint;
}

/** Energy units of an account. */
export interface EnergyState {
  limit: bigint;
  used: bigint;
}

/** An account's money and resources at the head. */
export interface Balances {
  trx: bigint;
  usdt: bigint;
  bandwidth: BandwidthState;
  energy: EnergyState;
}

/** Energy a USDT transfer would use now. */
export interface UsdtEstimate {
  energy: bigint;
  recipientHoldsUsdt: boolean;
}

/** The fee parameters tronpay uses, in sun unless named otherwise. */
export interface ChainParameters {
  energyFeeSun: bigint;
  bandwidthFeeSun: bigint;
  memoFeeSun: bigint;
  /** getCreateNewAccountFeeInSystemContract. */
  accountActivationFeeSun: bigint;
  /** getCreateAccountFee. */
  createAccountBandwidthFeeSun: bigint;
  maxFeeLimitSun: bigint;
  unfreezeDelayDays: bigint;
  freeNetLimit: bigint;
}

/** Stake 2.0 figures of one account (sun). */
export interface StakingState {
  /** Spendable TRX. */
  balance: bigint;
  /** Staked and not delegated away, per resource. */
  frozen: Record<StakeResource, bigint>;
  /** Staked and delegated to others, per resource. */
  delegatedOut: Record<StakeResource, bigint>;
  /** Delegated to this account by others, per resource. */
  acquired: Record<StakeResource, bigint>;
  /** Unfreezes not withdrawn yet (expired or not), soonest first; expireTime in ms. */
  unfreezes: { resource: StakeResource; amount: bigint; expireTime: number }[];
  /** Network energy per day and staked TRX weight: energy per staked TRX = limit / weight. */
  totalEnergyLimit: bigint;
  totalEnergyWeight: bigint;
}

/** One delegation between two accounts (addresses base58check). */
export interface Delegation {
  from: string;
  to: string;
  resource: StakeResource;
  amount: bigint;
  /** ms since the epoch; absent when not locked. */
  lockedUntil?: number;
}

/** An account's delegations, both ways. */
export interface Delegations {
  out: Delegation[];
  in: Delegation[];
}

/** A TRX transfer (TransferContract) or a USDT Transfer event, as found in a block. */
export interface ChainTransfer {
  asset: "TRX" | "USDT";
  txId: string;
  /** Position of the USDT event in the transaction's log; 0 for TRX. */
  logIndex: number;
  from: string;
  to: string;
  amount: bigint;
  blockNumber: bigint;
  /** ms since the epoch. */
  blockTime: number;
  /** The transaction's result, e.g. SUCCESS. */
  result: string;
}

/** One solidified block's transfers. */
export interface BlockTransfers {
  block: BlockHeader;
  transfers: ChainTransfer[];
  /**
   * The receipt of every transaction in the block (gettransactioninfobyblocknum), from which
   * the engine learns its attempts' inclusion without asking about each one.
   */
  receipts?: TxInfo[];
}

/** Which node the adapter uses and whether it answers. */
export interface NodeStatus {
  /** Scheme, host, port and path only. */
  nodeUrl: string;
  /** The last call succeeded and that node's circuit breaker is closed. */
  reachable: boolean;
}

/** The TRON node adapter: everything core asks of the chain. */
export interface Chain {
  readonly usdtContract: string;
  head(): Promise<BlockRef>;
  solidified(): Promise<BlockRef>;
  block(which: BlockSelector): Promise<BlockHeader | undefined>;
  buildTransfer(req: TransferRequest): Promise<BuiltTx>;
  buildStake(req: StakeRequest): Promise<BuiltTx>;
  broadcast(rawData: Uint8Array, signature: Uint8Array): Promise<BroadcastResult>;
  transactionInfo(txId: string, from: "head" | "solidified"): Promise<TxInfo | undefined>;
  transactionSeen(txId: string): Promise<boolean>;
  balances(address: string): Promise<Balances>;
  usdtBalance(address: string): Promise<bigint>;
  recipientHoldsUsdt(address: string): Promise<boolean>;
  accountExists(address: string): Promise<boolean>;
  estimateUsdtTransfer(from: string, to: string, amount: bigint): Promise<UsdtEstimate>;
  chainParameters(): Promise<ChainParameters>;
  /** USDT a spender may still take from an owner (allowance, constant call at the head). */
  usdtAllowance(owner: string, spender: string): Promise<bigint>;
  stakingState(address: string): Promise<StakingState>;
  delegations(address: string): Promise<Delegations>;
  /** How many more unfreezes the chain accepts from an address now (getavailableunfreezecount). */
  availableUnfreezeCount(address: string): Promise<number>;
  /** Transfers of a solidified block; undefined when that block is not solidified yet. */
  blockTransfers(number: bigint): Promise<BlockTransfers | undefined>;
  status(): NodeStatus;
  /** False while every node's circuit breaker is open (or probing): signing waits then. */
  anyNodeAvailable(): boolean;
  /** Calls `listener` each time anyNodeAvailable() changes; returns what unsubscribes it. */
  onAvailabilityChange(listener: (available: boolean) => void): () => void;
}
