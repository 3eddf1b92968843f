import type { Logger } from "../shared/log.js";
import type { TxRaw } from "../tron/transaction.js";
import { acceptTransaction, BroadcastError } from "./broadcast.js";
import type { BlockRecord, Chain } from "./chain.js";
import type { DevnetConfig } from "./config.js";
import type { ExecParams } from "./execute.js";
import type { FaultSettings, Faults } from "./faults.js";
import { newAccount, WorldState } from "./state.js";
import { type StateMap, TrackedState } from "./store.js";
import { type CallPlan, planUsdtCall } from "./usdt.js";

/** What a broadcast answered, plus whether the HTTP layer must hang up instead (fault). */
export interface BroadcastOutcome {
  readonly txid: string;
  readonly hangUp: boolean;
}

/** The devnet's behaviour behind the HTTP routes: broadcast, mine, fund, read state. */
export class DevnetNode {
  readonly params: ExecParams;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly config: DevnetConfig,
    readonly chain: Chain,
    readonly faults: Faults,
    readonly log: Logger,
    /** Wall clock (ms); block times never go below it. Replaceable in tests. */
    readonly clock: () => number = Date.now,
  ) {
    this.params = {
      freeNetLimit: config.freeNetLimit,
      netPerTrx: config.netPerTrx,
      energyPerTrx: config.energyPerTrx,
      bandwidthPriceSun: config.bandwidthPriceSun,
      energyPriceSun: config.energyPriceSun,
      createAccountBandwidthFeeSun: config.createAccountBandwidthFeeSun,
      createAccountFeeSun: config.createAccountFeeSun,
      memoFeeSun: config.memoFeeSun,
      maxFeeLimitSun: config.maxFeeLimitSun,
      unstakeWaitMs: config.unstakeWaitMs,
      maxPendingUnfreezes: config.maxPendingUnfreezes,
    };
  }

  /** Accepts a signed transaction, applying the drop/timeout faults. Throws BroadcastError. */
  broadcast(tx: {
    rawBytes: Uint8Array;
    signatures: readonly Uint8Array[];
    decoded?: TxRaw;
  }): BroadcastOutcome {
    const drop = this.faults.roll(this.faults.settings.dropRate);
    const txid = acceptTransaction(this.chain, this.params, tx, drop);
    const hangUp = !drop && this.faults.roll(this.faults.settings.timeoutRate);
    if (drop) this.log.info({ txid }, "fault: broadcast accepted and dropped");
    if (hangUp) this.log.info({ txid }, "fault: broadcast included, answer dropped");
    return { txid, hangUp };
  }

  /** Produces `n` blocks now; returns the last. */
  mine(n = 1): BlockRecord {
    let last = this.chain.head;
    for (let i = 0; i < n; i++) last = this.chain.produce(this.clock());
    return last;
  }

  /** Credits TRX (sun) and/or USDT (base units) to an account, creating it if needed. */
  fund(hex41: string, trxSun: bigint, usdt: bigint): void {
    if (trxSun < 0n || usdt < 0n) throw new BroadcastError("OTHER_ERROR", "amounts must be >= 0");
    const tracked = new TrackedState(this.chain.data.head);
    const ws = new WorldState(tracked);
    const now = this.chain.head.timestamp;
    const a = ws.account(hex41) ?? (trxSun > 0n ? newAccount(now) : undefined);
    if (a) ws.putAccount(hex41, { ...a, balance: a.balance + trxSun });
    if (usdt > 0n) {
      ws.setTokenBalance(hex41, ws.tokenBalance(hex41) + usdt);
      ws.setTokenSupply(ws.tokenSupply() + usdt);
    }
    this.chain.enqueue({ writes: tracked.commit() });
  }

  /** A read-only view of the head or solidified state. */
  view(solid: boolean): WorldState {
    return new WorldState(new TrackedState(this.stateMap(solid)));
  }

  stateMap(solid: boolean): StateMap {
    return solid ? this.chain.data.solid : this.chain.data.head;
  }

  /** Runs a USDT call against the head state without keeping any change. */
  constantCall(owner: string, data: Uint8Array): CallPlan {
    const tracked = new TrackedState(this.chain.data.head);
    try {
      return planUsdtCall(new WorldState(tracked), owner, data);
    } finally {
      tracked.rollback();
    }
  }

  /** Starts producing a block every blockTimeMs. */
  startTimer(): void {
    this.stopTimer();
    this.timer = setInterval(() => this.chain.produce(this.clock()), this.chain.blockTimeMs);
    this.timer.unref();
  }

  get autoMining(): boolean {
    return this.timer !== undefined;
  }

  stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Changes the block interval, the solidification lag and/or whether the timer runs. */
  setTiming(t: { blockTimeMs?: number; solidLag?: number; autoMine?: boolean }): void {
    if (t.solidLag !== undefined) {
      this.chain.solidLag = t.solidLag;
      this.chain.advanceSolid();
    }
    if (t.blockTimeMs !== undefined) {
      this.chain.blockTimeMs = t.blockTimeMs;
      if (this.timer) this.startTimer();
    }
    if (t.autoMine === false) this.stopTimer();
    if (t.autoMine === true) this.startTimer();
  }

  /** Merges (validated) fault settings; the solidity stall takes effect at once. */
  setFaults(patch: Partial<FaultSettings>): FaultSettings {
    const settings = this.faults.update(patch);
    this.applyStall();
    return settings;
  }

  resetFaults(): FaultSettings {
    const settings = this.faults.reset();
    this.applyStall();
    return settings;
  }

  /** Moves the devnet clock forward and mines a block at the new time. */
  advanceClock(ms: number): BlockRecord {
    this.chain.advanceClock(ms);
    return this.mine(1);
  }

  private applyStall(): void {
    this.chain.solidStalled = this.faults.settings.stallSolidity;
    this.chain.advanceSolid();
  }
}
