import type { CommonQueryMethods } from "slonik";
import { Resource } from "../../gen/tronpay/v1/common_pb.js";
import { normalizeAddress } from "../../shared/address.js";
import { AppError } from "../../shared/errors.js";
import type { StakeResource } from "../chain/types.js";
import { isOwnWallet, type WalletRow, walletOrThrow } from "../wallets/repo.js";

/** The chain allows this many unfreezes pending at once (Stake 2.0). */
export const MAX_PENDING_UNFREEZES = 32;
/** TRX kept back from a stake for the bandwidth of later transactions. */
export const STAKE_FEE_MARGIN_SUN = 300_000n;
/** One block, in ms: lock periods are sent in blocks. */
const BLOCK_MS = 3_000n;

/** The wallet with that id; throws wallet.not_found. */
export async function walletOf(db: CommonQueryMethods, id: string): Promise<WalletRow> {
  return walletOrThrow(db, id, { field: "wallet_id" });
}

/** The domain resource of a proto one; throws request.invalid when unspecified. */
export function resourceOf(r: Resource): StakeResource {
  if (r === Resource.BANDWIDTH) return "BANDWIDTH";
  if (r === Resource.ENERGY) return "ENERGY";
  throw new AppError("request.invalid", "resource must be BANDWIDTH or ENERGY", {
    metadata: { field: "resource" },
  });
}

/**
 * The receiver as base58check if it is another tronpay wallet; throws address.invalid for a bad
 * address and staking.receiver_not_own for anyone else (the signer would refuse it too).
 */
export async function ownReceiver(
  db: CommonQueryMethods,
  lender: WalletRow,
  text: string,
): Promise<string> {
  const receiver = normalizeAddress(text, "receiver_address");
  if (!(await isOwnWallet(db, receiver)) || receiver === lender.address) {
    throw new AppError(
      "staking.receiver_not_own",
      "resources may be delegated only to another tronpay wallet",
      { metadata: { field: "receiver_address" } },
    );
  }
  return receiver;
}

/** A lock length in whole 3-second blocks, rounded up; throws request.invalid when ≤ 0. */
export function lockBlocks(lock: boolean, seconds: bigint, nanos: number): bigint {
  if (!lock) return 0n;
  const ms = seconds * 1000n + BigInt(Math.ceil(nanos / 1_000_000));
  if (ms <= 0n) {
    throw new AppError("request.invalid", "lock_period is required when lock is true", {
      metadata: { field: "lock_period" },
    });
  }
  return (ms + BLOCK_MS - 1n) / BLOCK_MS;
}

/** Throws staking.insufficient_stake unless `available` covers `amount`. */
export function needStake(available: bigint, amount: bigint, resource: StakeResource): void {
  if (available < amount) {
    throw new AppError(
      "staking.insufficient_stake",
      `the wallet has less TRX staked for ${resource.toLowerCase()} than that`,
      { metadata: { field: "amount" } },
    );
  }
}
