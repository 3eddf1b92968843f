import type { Account, StakeResource, Unfreezing, WorldState } from "./state.js";

/**
 * Stake 2.0 actuators: freeze, unfreeze, withdraw, cancel, delegate, undelegate. Each
 * validates like java-tron (same messages where tronpay may show them) and then applies.
 * Simplification: one delegation record per (from, to, resource); locking again extends the
 * lock of the whole record, where java-tron keeps locked and unlocked parts apart.
 */

/** A contract validation failure; the broadcast answers CONTRACT_VALIDATE_ERROR. */
export class ValidateError extends Error {}

/** The stake settings actuators need. */
export interface StakeParams {
  readonly unstakeWaitMs: number;
  readonly maxPendingUnfreezes: number;
}

const TRX = 1_000_000n;
/** Lock periods count 3 s blocks whatever the devnet's block time (java-tron's unit). */
const LOCK_SLOT_MS = 3000;
/** java-tron's default lock when `lock` is set without a period: 3 days of 3 s blocks. */
const DEFAULT_LOCK_PERIOD = 86_400n;

function owner(ws: WorldState, hex41: string): Account {
  const a = ws.account(hex41);
  if (!a) throw new ValidateError(`Account[${hex41}] does not exist`);
  return a;
}

function withResource(
  rec: Readonly<Record<StakeResource, bigint>>,
  r: StakeResource,
  delta: bigint,
): Readonly<Record<StakeResource, bigint>> {
  return { ...rec, [r]: rec[r] + delta };
}

/** FreezeBalanceV2: stakes `amount` sun for `r`. */
export function freeze(ws: WorldState, from: string, amount: bigint, r: StakeResource): void {
  const a = owner(ws, from);
  if (amount < TRX) throw new ValidateError("frozenBalance must be greater than or equal to 1 TRX");
  if (amount > a.balance) {
    throw new ValidateError("frozenBalance must be less than or equal to accountBalance");
  }
  ws.putAccount(from, {
    ...a,
    balance: a.balance - amount,
    frozen: withResource(a.frozen, r, amount),
  });
  ws.addStake(r, amount);
}

/** WithdrawExpireUnfreeze's core: moves expired unfreezes to the balance; returns the sum. */
export function withdrawExpired(ws: WorldState, from: string, now: number): bigint {
  const a = owner(ws, from);
  const expired = a.unfrozen.filter((u) => u.expireTime <= now);
  if (expired.length === 0) return 0n;
  const sum = expired.reduce((s, u) => s + u.amount, 0n);
  ws.putAccount(from, {
    ...a,
    balance: a.balance + sum,
    unfrozen: a.unfrozen.filter((u) => u.expireTime > now),
  });
  return sum;
}

/** UnfreezeBalanceV2: starts unstaking; withdraws already-expired unfreezes first. */
export function unfreeze(
  ws: WorldState,
  from: string,
  amount: bigint,
  r: StakeResource,
  now: number,
  p: StakeParams,
): bigint {
  const before = owner(ws, from);
  if (before.frozen[r] === 0n) throw new ValidateError(`no frozenBalance(${r})`);
  if (amount <= 0n || amount > before.frozen[r]) {
    throw new ValidateError(`Invalid unfreeze_balance, [${amount}] is invalid`);
  }
  const pending = before.unfrozen.filter((u) => u.expireTime > now).length;
  if (pending >= p.maxPendingUnfreezes) {
    throw new ValidateError("Invalid unfreeze operation, unfreezing times is over limit");
  }
  const withdrawn = withdrawExpired(ws, from, now);
  const a = owner(ws, from);
  const entry: Unfreezing = { resource: r, amount, expireTime: now + p.unstakeWaitMs };
  ws.putAccount(from, {
    ...a,
    frozen: withResource(a.frozen, r, -amount),
    unfrozen: [...a.unfrozen, entry],
  });
  ws.addStake(r, -amount);
  return withdrawn;
}

/** WithdrawExpireUnfreeze: fails when nothing has expired. */
export function withdraw(ws: WorldState, from: string, now: number): bigint {
  const sum = withdrawExpired(ws, from, now);
  if (sum === 0n) throw new ValidateError("no unFreeze balance to withdraw ");
  return sum;
}

/** CancelAllUnfreezeV2: re-stakes pending unfreezes and withdraws expired ones. */
export function cancelAllUnfreeze(ws: WorldState, from: string, now: number): bigint {
  const a = owner(ws, from);
  if (a.unfrozen.length === 0) throw new ValidateError("No unfreezeV2 list to cancel");
  const withdrawn = withdrawExpired(ws, from, now);
  const b = owner(ws, from);
  let frozen = b.frozen;
  for (const u of b.unfrozen) {
    frozen = withResource(frozen, u.resource, u.amount);
    ws.addStake(u.resource, u.amount);
  }
  ws.putAccount(from, { ...b, frozen, unfrozen: [] });
  return withdrawn;
}

/** The delegate contract's fields. */
export interface DelegateArgs {
  readonly from: string;
  readonly to: string;
  readonly resource: StakeResource;
  readonly balance: bigint;
  readonly lock: boolean;
  readonly lockPeriod: bigint;
}

/** DelegateResource: lends staked `balance` sun of `resource` to `to`. */
export function delegate(ws: WorldState, d: DelegateArgs, now: number): void {
  const a = owner(ws, d.from);
  if (d.balance < TRX)
    throw new ValidateError("delegateBalance must be greater than or equal to 1 TRX");
  if (d.from === d.to)
    throw new ValidateError("receiverAddress must not be the same as ownerAddress");
  if (d.balance > a.frozen[d.resource]) {
    throw new ValidateError(
      `delegateBalance must be less than or equal to available FreezeV2 balance of ${d.resource}`,
    );
  }
  const receiver = ws.account(d.to);
  if (!receiver) throw new ValidateError(`Account[${d.to}] does not exist`);
  const period = d.lock ? (d.lockPeriod > 0n ? d.lockPeriod : DEFAULT_LOCK_PERIOD) : 0n;
  const existing = ws.delegation(d.from, d.to, d.resource);
  const lockUntil = now + Number(period) * LOCK_SLOT_MS;
  ws.setDelegation(d.from, d.to, d.resource, {
    balance: (existing?.balance ?? 0n) + d.balance,
    expireTime: d.lock
      ? Math.max(lockUntil, existing?.expireTime ?? 0)
      : (existing?.expireTime ?? 0),
  });
  ws.putAccount(d.from, {
    ...a,
    frozen: withResource(a.frozen, d.resource, -d.balance),
    delegatedOut: withResource(a.delegatedOut, d.resource, d.balance),
  });
  ws.updateAccount(d.to, (r) => ({ acquired: withResource(r.acquired, d.resource, d.balance) }));
}

/** UnDelegateResource: takes back `balance` sun of a delegation whose lock has passed. */
export function undelegate(
  ws: WorldState,
  d: Omit<DelegateArgs, "lock" | "lockPeriod">,
  now: number,
): void {
  const a = owner(ws, d.from);
  const existing = ws.delegation(d.from, d.to, d.resource);
  if (!existing) throw new ValidateError("delegated Resource does not exist");
  if (existing.expireTime > now) {
    throw new ValidateError("insufficient delegatedFrozenBalance, the delegation is still locked");
  }
  if (d.balance <= 0n || d.balance > existing.balance) {
    throw new ValidateError(
      `insufficient delegatedFrozenBalance(${d.resource}), request=${d.balance}`,
    );
  }
  ws.setDelegation(d.from, d.to, d.resource, {
    ...existing,
    balance: existing.balance - d.balance,
  });
  ws.putAccount(d.from, {
    ...a,
    frozen: withResource(a.frozen, d.resource, d.balance),
    delegatedOut: withResource(a.delegatedOut, d.resource, -d.balance),
  });
  if (ws.account(d.to)) {
    ws.updateAccount(d.to, (r) => ({ acquired: withResource(r.acquired, d.resource, -d.balance) }));
  }
}
