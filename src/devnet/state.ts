import type { TrackedState } from "./store.js";

/**
 * Typed access to the world state. Values are immutable: every change stores a new object,
 * because write sets and the solidified state share them.
 */

/** A resource that can be staked or delegated. */
export type StakeResource = "BANDWIDTH" | "ENERGY";

/** Usage of one resource, recovering linearly over the 24 h window (java-tron's model). */
export interface Usage {
  readonly used: bigint;
  /** Head-block time (ms) of the last consumption. */
  readonly time: number;
}

/** A pending Stake 2.0 unfreeze. */
export interface Unfreezing {
  readonly resource: StakeResource;
  readonly amount: bigint;
  readonly expireTime: number;
}

/** One account, as much of java-tron's Account as tronpay and tronweb read. */
export interface Account {
  readonly balance: bigint;
  readonly createTime: number;
  /** Own staked TRX not delegated away, by resource. */
  readonly frozen: Readonly<Record<StakeResource, bigint>>;
  /** Staked TRX delegated to others, by resource. */
  readonly delegatedOut: Readonly<Record<StakeResource, bigint>>;
  /** Staked TRX others delegated to this account, by resource. */
  readonly acquired: Readonly<Record<StakeResource, bigint>>;
  readonly unfrozen: readonly Unfreezing[];
  readonly freeNet: Usage;
  readonly net: Usage;
  readonly energy: Usage;
  readonly latestOperationTime: number;
}

/** A delegation from one account to another for one resource. */
export interface Delegation {
  readonly balance: bigint;
  /** Until when (head-block ms) it cannot be undelegated; 0 when unlocked. */
  readonly expireTime: number;
}

/** Network-wide staked sun by resource, for getaccountresource's Total* fields. */
export interface StakeTotals {
  readonly BANDWIDTH: bigint;
  readonly ENERGY: bigint;
}

const NO_USAGE: Usage = { used: 0n, time: 0 };
const ZERO: Readonly<Record<StakeResource, bigint>> = { BANDWIDTH: 0n, ENERGY: 0n };

/** A fresh account created at `time`. */
export function newAccount(time: number, balance = 0n): Account {
  return {
    balance,
    createTime: time,
    frozen: ZERO,
    delegatedOut: ZERO,
    acquired: ZERO,
    unfrozen: [],
    freeNet: NO_USAGE,
    net: NO_USAGE,
    energy: NO_USAGE,
    latestOperationTime: 0,
  };
}

const accountKey = (hex41: string) => `a:${hex41}`;
const tokenKey = (hex41: string) => `t:${hex41}`;
const allowanceKey = (owner: string, spender: string) => `l:${owner}:${spender}`;
const delegationKey = (from: string, to: string, r: StakeResource) => `d:${from}:${to}:${r}`;
const TOTALS_KEY = "g:stake";
const SUPPLY_KEY = "g:usdt-supply";

/** Typed reads and writes over a tracked state; addresses are 41-hex strings. */
export class WorldState {
  constructor(readonly tracked: TrackedState) {}

  account(hex41: string): Account | undefined {
    return this.tracked.get<Account>(accountKey(hex41));
  }

  putAccount(hex41: string, account: Account): void {
    this.tracked.set(accountKey(hex41), account);
  }

  /** Applies `change` to an existing account; throws if it does not exist. */
  updateAccount(hex41: string, change: (a: Account) => Partial<Account>): Account {
    const current = this.account(hex41);
    if (!current) throw new Error(`no account ${hex41}`);
    const next = { ...current, ...change(current) };
    this.putAccount(hex41, next);
    return next;
  }

  tokenBalance(hex41: string): bigint {
    return this.tracked.get<bigint>(tokenKey(hex41)) ?? 0n;
  }

  setTokenBalance(hex41: string, amount: bigint): void {
    this.tracked.set(tokenKey(hex41), amount === 0n ? undefined : amount);
  }

  allowance(owner: string, spender: string): bigint {
    return this.tracked.get<bigint>(allowanceKey(owner, spender)) ?? 0n;
  }

  setAllowance(owner: string, spender: string, amount: bigint): void {
    this.tracked.set(allowanceKey(owner, spender), amount === 0n ? undefined : amount);
  }

  tokenSupply(): bigint {
    return this.tracked.get<bigint>(SUPPLY_KEY) ?? 0n;
  }

  setTokenSupply(amount: bigint): void {
    this.tracked.set(SUPPLY_KEY, amount);
  }

  delegation(from: string, to: string, r: StakeResource): Delegation | undefined {
    return this.tracked.get<Delegation>(delegationKey(from, to, r));
  }

  setDelegation(from: string, to: string, r: StakeResource, d: Delegation | undefined): void {
    this.tracked.set(delegationKey(from, to, r), d && d.balance > 0n ? d : undefined);
  }

  stakeTotals(): StakeTotals {
    return this.tracked.get<StakeTotals>(TOTALS_KEY) ?? ZERO;
  }

  /** Adds `deltaSun` (may be negative) to the network total staked for `r`. */
  addStake(r: StakeResource, deltaSun: bigint): void {
    const t = this.stakeTotals();
    this.tracked.set(TOTALS_KEY, { ...t, [r]: t[r] + deltaSun });
  }
}

/** Lists delegations in a state map touching `hex41` (as giver or receiver). */
export function delegationsOf(
  map: ReadonlyMap<string, unknown>,
  hex41: string,
): { from: string; to: string; resource: StakeResource; delegation: Delegation }[] {
  const out: { from: string; to: string; resource: StakeResource; delegation: Delegation }[] = [];
  for (const [key, value] of map) {
    if (!key.startsWith("d:")) continue;
    const [, from = "", to = "", resource] = key.split(":");
    if (from !== hex41 && to !== hex41) continue;
    out.push({ from, to, resource: resource as StakeResource, delegation: value as Delegation });
  }
  return out;
}
