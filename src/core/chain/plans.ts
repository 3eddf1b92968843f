import type { TronWeb } from "tronweb";
import { type AddressBytes, parseAddress, toBase58 } from "../../shared/address.js";
import { AppError } from "../../shared/errors.js";
import { MAX_BASE_UNITS } from "../../shared/money.js";
import type { DecodedContract } from "../../tron/transaction.js";
import { encodeApprove, encodeTransfer } from "../../tron/trc20.js";
import type { StakeRequest, TransferRequest } from "./types.js";

/** TaPoS, expiration and timestamp handed to tronweb so it calls no node and we know each. */
export interface HeaderOptions {
  ref_block_bytes: string;
  ref_block_hash: string;
  expiration: number;
  timestamp: number;
}

/** One build: what the transaction must be, and how tronweb is asked to make it. */
export interface BuildPlan {
  contract: DecodedContract;
  feeLimit: bigint;
  memo: Uint8Array;
  lifetimeMs: number;
  /** Calls tronweb; returns the transaction object it built (unsigned, untrusted). */
  build(tw: TronWeb, blockHeader: HeaderOptions): Promise<unknown>;
}

const invalid = (field: string, message: string) =>
  new AppError("request.invalid", message, { metadata: { field } });

// tronweb parses TRX and stake amounts with parseInt into a JS number, so above 2^53-1 it
// would silently round; such amounts are refused rather than built wrong.
function tronwebNumber(v: bigint, field: string, min: bigint): number {
  if (v < min || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new AppError("money.out_of_range", `${field} is out of the range tronweb can build`, {
      metadata: { field },
    });
  }
  return Number(v);
}

function checkLifetime(ms: number): number {
  // java-tron wants expiration ≥ head + 3 s and ≤ head + 24 h at broadcast time.
  if (!Number.isInteger(ms) || ms < 3_000 || ms > 86_400_000) {
    throw invalid("lifetime_ms", "lifetime must be 3 s to 24 h in whole milliseconds");
  }
  return ms;
}

function memoBytes(memo: string | undefined): Uint8Array {
  const bytes = new TextEncoder().encode(memo ?? "");
  if (bytes.length > 512) throw invalid("memo", "memo must be at most 512 bytes of UTF-8");
  return bytes;
}

/** Validates a transfer request and plans its build; throws request/address/money errors. */
export function planTransfer(req: TransferRequest, usdt: AddressBytes): BuildPlan {
  const owner = parseAddress(req.owner, "owner");
  const to = parseAddress(req.to, "to");
  const lifetimeMs = checkLifetime(req.lifetimeMs);
  const memo = memoBytes(req.memo);
  if (req.kind === "TRX_TRANSFER") {
    if (req.feeLimit !== undefined && req.feeLimit !== 0n) {
      throw invalid("fee_limit", "a TRX transfer takes no fee limit");
    }
    const amount = tronwebNumber(req.amount, "amount", 1n);
    return {
      contract: { type: "TransferContract", owner, to, amount: req.amount },
      feeLimit: 0n,
      memo,
      lifetimeMs,
      build: (tw, blockHeader) =>
        tw.transactionBuilder.sendTrx(toBase58(to), amount, toBase58(owner), { blockHeader }),
    };
  }
  if (req.feeLimit === undefined) throw invalid("fee_limit", "a USDT call needs a fee limit");
  const feeLimit = tronwebNumber(req.feeLimit, "fee_limit", 1n);
  const approve = req.kind === "USDT_APPROVE";
  const min = approve ? 0n : 1n;
  if (req.amount < min || req.amount > MAX_BASE_UNITS) {
    throw new AppError("money.out_of_range", "amount is out of range", {
      metadata: { field: "amount" },
    });
  }
  const selector = approve ? "approve(address,uint256)" : "transfer(address,uint256)";
  return {
    contract: {
      type: "TriggerSmartContract",
      owner,
      contract: usdt,
      callValue: 0n,
      data: approve ? encodeApprove(to, req.amount) : encodeTransfer(to, req.amount),
      callTokenValue: 0n,
      tokenId: 0n,
    },
    feeLimit: req.feeLimit,
    memo,
    lifetimeMs,
    build: async (tw, blockHeader) => {
      // The uint256 goes in as a decimal string: tronweb's ABI coder takes it exactly.
      const params = [
        { type: "address", value: toBase58(to) },
        { type: "uint256", value: req.amount.toString() },
      ];
      const options = { feeLimit, callValue: 0, txLocal: true, blockHeader };
      const wrapped = await tw.transactionBuilder.triggerSmartContract(
        toBase58(usdt),
        selector,
        options,
        params,
        toBase58(owner),
      );
      return wrapped.transaction;
    },
  };
}

/** Validates a Stake 2.0 request and plans its build. */
export function planStake(req: StakeRequest): BuildPlan {
  const owner = parseAddress(req.owner, "owner");
  const base = { feeLimit: 0n, memo: new Uint8Array(0), lifetimeMs: checkLifetime(req.lifetimeMs) };
  const o = toBase58(owner);
  switch (req.kind) {
    case "WITHDRAW_EXPIRE_UNFREEZE":
      return {
        ...base,
        contract: { type: "WithdrawExpireUnfreezeContract", owner },
        build: (tw, blockHeader) =>
          tw.transactionBuilder.withdrawExpireUnfreeze(o, { blockHeader }),
      };
    case "FREEZE":
    case "UNFREEZE": {
      const n = tronwebNumber(req.amount, "amount", 1n);
      const { resource } = req;
      if (req.kind === "FREEZE") {
        return {
          ...base,
          contract: { type: "FreezeBalanceV2Contract", owner, frozenBalance: req.amount, resource },
          build: (tw, blockHeader) =>
            tw.transactionBuilder.freezeBalanceV2(n, resource, o, { blockHeader }),
        };
      }
      return {
        ...base,
        contract: {
          type: "UnfreezeBalanceV2Contract",
          owner,
          unfreezeBalance: req.amount,
          resource,
        },
        build: (tw, blockHeader) =>
          tw.transactionBuilder.unfreezeBalanceV2(n, resource, o, { blockHeader }),
      };
    }
    case "DELEGATE":
    case "UNDELEGATE":
      return planDelegation(req, owner, base);
  }
}

function planDelegation(
  req: Extract<StakeRequest, { kind: "DELEGATE" | "UNDELEGATE" }>,
  owner: AddressBytes,
  base: Pick<BuildPlan, "feeLimit" | "memo" | "lifetimeMs">,
): BuildPlan {
  const receiver = parseAddress(req.receiver, "receiver");
  const n = tronwebNumber(req.amount, "amount", 1n);
  const { resource } = req;
  const [o, r] = [toBase58(owner), toBase58(receiver)];
  if (req.kind === "UNDELEGATE") {
    return {
      ...base,
      contract: {
        type: "UnDelegateResourceContract",
        owner,
        resource,
        balance: req.amount,
        receiver,
      },
      build: (tw, blockHeader) =>
        tw.transactionBuilder.undelegateResource(n, r, resource, o, { blockHeader }),
    };
  }
  const lock = req.lockPeriod !== undefined;
  const period = lock ? tronwebNumber(req.lockPeriod ?? 0n, "lock_period", 0n) : undefined;
  return {
    ...base,
    contract: {
      type: "DelegateResourceContract",
      owner,
      resource,
      balance: req.amount,
      receiver,
      lock,
      lockPeriod: req.lockPeriod ?? 0n,
    },
    build: (tw, blockHeader) =>
      tw.transactionBuilder.delegateResource(n, r, resource, o, lock, period, { blockHeader }),
  };
}
