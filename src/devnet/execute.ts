import { hex } from "@scure/base";
import { toHex41 } from "../shared/address.js";
import type { DecodedContract, Resource, TxRaw } from "../tron/transaction.js";
import { BandwidthError, chargeBandwidth, chargeEnergy, type FeeParams } from "./fees.js";
import * as stake from "./stake.js";
import { ValidateError } from "./stake.js";
import { type Account, newAccount, type StakeResource, type WorldState } from "./state.js";
import type { LogRecord, Receipt, TxOutcome } from "./tx-record.js";
import { planUsdtCall, USDT_ADDRESS } from "./usdt.js";

/** Every figure execution depends on. */
export interface ExecParams extends FeeParams, stake.StakeParams {
  readonly createAccountFeeSun: bigint;
  readonly memoFeeSun: bigint;
  readonly maxFeeLimitSun: bigint;
}

/** Thrown when the owner cannot pay for bandwidth (broadcast answers BANDWITH_ERROR). */
export { BandwidthError, ValidateError };

const USDT_HEX = toHex41(USDT_ADDRESS);

/**
 * Executes one decoded transaction on `ws` at head-block time `now`, charging bandwidth
 * (`bytes`), memo and energy fees. Throws ValidateError or BandwidthError, after which the
 * caller rolls the state back; a reverted or out-of-energy call is an outcome, not an error.
 */
export function executeTransaction(
  ws: WorldState,
  raw: TxRaw,
  bytes: bigint,
  now: number,
  p: ExecParams,
): TxOutcome {
  const c = raw.contract;
  const owner = toHex41(c.owner);
  const account = ws.account(owner);
  if (!account) throw new ValidateError(`account [${owner}] does not exist`);
  if (raw.permissionId !== 0) throw new ValidateError("devnet supports only the owner permission");
  const createsAccount = c.type === "TransferContract" && !ws.account(toHex41(c.to));
  if (c.type === "TransferContract") validateTransfer(account, c, owner, createsAccount, p);
  const net = chargeBandwidth(account, bytes, now, p, createsAccount);
  let fee = net.netFee;
  let paid: Account = { ...net.account, latestOperationTime: now };
  if (raw.data.length > 0) {
    if (paid.balance < p.memoFeeSun)
      throw new ValidateError("balance is not sufficient for memo fee");
    paid = { ...paid, balance: paid.balance - p.memoFeeSun };
    fee += p.memoFeeSun;
  }
  ws.putAccount(owner, paid);
  const base: Receipt = {
    netUsage: net.netUsage,
    netFee: net.netFee,
    energyUsage: 0n,
    energyFee: 0n,
    energyUsageTotal: 0n,
  };
  if (c.type === "TriggerSmartContract") {
    return executeTrigger(ws, raw, owner, base, fee, now, p);
  }
  const extra = executeSystem(ws, c, owner, createsAccount, now, p);
  return { contractRet: "SUCCESS", fee: fee + extra.fee, receipt: base, logs: [], ...extra.info };
}

function validateTransfer(
  a: Account,
  c: Extract<DecodedContract, { type: "TransferContract" }>,
  owner: string,
  createsAccount: boolean,
  p: ExecParams,
): void {
  if (c.amount <= 0n) throw new ValidateError("Amount must be greater than 0.");
  if (toHex41(c.to) === owner) throw new ValidateError("Cannot transfer TRX to yourself.");
  const need = c.amount + (createsAccount ? p.createAccountFeeSun : 0n);
  if (a.balance < need) {
    throw new ValidateError("Validate TransferContract error, balance is not sufficient.");
  }
}

type SystemResult = { fee: bigint; info: Partial<TxOutcome> };

function executeSystem(
  ws: WorldState,
  c: DecodedContract,
  owner: string,
  createsAccount: boolean,
  now: number,
  p: ExecParams,
): SystemResult {
  switch (c.type) {
    case "TransferContract":
      return transfer(ws, owner, toHex41(c.to), c.amount, createsAccount, now, p);
    case "FreezeBalanceV2Contract":
      stake.freeze(ws, owner, c.frozenBalance, stakeResource(c.resource));
      return { fee: 0n, info: {} };
    case "UnfreezeBalanceV2Contract": {
      const r = stakeResource(c.resource);
      const w = stake.unfreeze(ws, owner, c.unfreezeBalance, r, now, p);
      return { fee: 0n, info: w > 0n ? { withdrawExpireAmount: w } : {} };
    }
    case "WithdrawExpireUnfreezeContract":
      return { fee: 0n, info: { withdrawExpireAmount: stake.withdraw(ws, owner, now) } };
    case "CancelAllUnfreezeV2Contract": {
      const w = stake.cancelAllUnfreeze(ws, owner, now);
      return { fee: 0n, info: w > 0n ? { withdrawExpireAmount: w } : {} };
    }
    case "DelegateResourceContract":
      stake.delegate(
        ws,
        {
          from: owner,
          to: toHex41(c.receiver),
          resource: stakeResource(c.resource),
          balance: c.balance,
          lock: c.lock,
          lockPeriod: c.lockPeriod,
        },
        now,
      );
      return { fee: 0n, info: {} };
    case "UnDelegateResourceContract":
      stake.undelegate(
        ws,
        {
          from: owner,
          to: toHex41(c.receiver),
          resource: stakeResource(c.resource),
          balance: c.balance,
        },
        now,
      );
      return { fee: 0n, info: {} };
    case "TriggerSmartContract":
      throw new Error("unreachable: contract calls are executed by executeTrigger");
  }
}

function transfer(
  ws: WorldState,
  owner: string,
  to: string,
  amount: bigint,
  createsAccount: boolean,
  now: number,
  p: ExecParams,
): SystemResult {
  const fee = createsAccount ? p.createAccountFeeSun : 0n;
  const a = ws.account(owner) as Account;
  if (a.balance < amount + fee) {
    throw new ValidateError("Validate TransferContract error, balance is not sufficient.");
  }
  ws.putAccount(owner, { ...a, balance: a.balance - amount - fee });
  const receiver = ws.account(to) ?? newAccount(now);
  ws.putAccount(to, { ...receiver, balance: receiver.balance + amount });
  return { fee, info: {} };
}

function stakeResource(r: Resource): StakeResource {
  if (r === "TRON_POWER")
    throw new ValidateError("ResourceCode error, valid ResourceCode[BANDWIDTH、ENERGY]");
  return r;
}

function executeTrigger(
  ws: WorldState,
  raw: TxRaw,
  owner: string,
  base: Receipt,
  feeSoFar: bigint,
  now: number,
  p: ExecParams,
): TxOutcome {
  const c = raw.contract as Extract<DecodedContract, { type: "TriggerSmartContract" }>;
  const contract = toHex41(c.contract);
  if (contract !== USDT_HEX) throw new ValidateError("No contract or not a smart contract");
  if (raw.feeLimit < 0n || raw.feeLimit > p.maxFeeLimitSun) {
    throw new ValidateError(`feeLimit must be >= 0 and <= ${p.maxFeeLimitSun}`);
  }
  const plan = planUsdtCall(ws, owner, c.data);
  // The contract is not payable: sending TRX or TRC-10 along reverts, as Solidity does.
  const payable = c.callValue === 0n && c.callTokenValue === 0n;
  const ok = plan.ok && payable;
  const energy = chargeEnergy(ws.account(owner) as Account, plan.energy, raw.feeLimit, now, p);
  ws.putAccount(owner, energy.account);
  const contractRet = energy.outOfEnergy ? "OUT_OF_ENERGY" : ok ? "SUCCESS" : "REVERT";
  if (contractRet === "SUCCESS") plan.apply();
  const logs: readonly LogRecord[] = contractRet === "SUCCESS" ? plan.logs : [];
  return {
    contractRet,
    fee: feeSoFar + energy.energyFee,
    receipt: {
      ...base,
      energyUsage: energy.energyUsage,
      energyFee: energy.energyFee,
      energyUsageTotal: energy.energyUsageTotal,
      result: contractRet,
    },
    logs,
    contractResult: contractRet === "OUT_OF_ENERGY" ? "" : hex.encode(plan.returnData),
    contractAddress: contract,
    ...(contractRet === "REVERT" ? { resMessage: "REVERT opcode executed" } : {}),
    ...(contractRet === "OUT_OF_ENERGY" ? { resMessage: "Not enough energy" } : {}),
  };
}
