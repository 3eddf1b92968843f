import type { Client } from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import type { SignerService } from "../../gen/tronpay/signer/v1/signer_pb.js";
import type { Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/log.js";
import type { Chain } from "../chain/types.js";
import type { OperationRow } from "./repo.js";

/**
 * How long the engine reuses a head block as the reference block of the transactions it builds,
 * and an owner's balances for its funds checks (ms): one node request per second for all the
 * payouts built meanwhile instead of one each. Below TRON's 3 s block interval.
 */
export const ENGINE_READ_MAX_AGE_MS = 1_000;

/** What the engine needs; passed in (no singletons) so tests can swap any part. */
export interface EngineDeps {
  pool: DatabasePool;
  chain: Chain;
  signer: Client<typeof SignerService>;
  log: Logger;
  /** Replacement waits, rebroadcast intervals and the node.unreachable report window. */
  clock: Clock;
  isPaused: () => Promise<boolean>;
  settings: EngineSettings;
  /**
   * Funds checks share an owner's balances read within this long (ms); default 0, a read per
   * check (worker.ts).
   */
  readMaxAgeMs?: number;
  /** Told when a payout is CONFIRMED, with the seconds since it was accepted (metrics). */
  onPayoutConfirmed?: (asset: string, seconds: number) => void;
  /** Told when the signer refused an operation for its policy (metrics), with the rule. */
  onPolicyRefused?: (rule: string) => void;
  /**
   * Asked before a QUEUED operation is signed: ms to wait first, or undefined to go ahead
   * (the energy top-up policy, staking/topup.ts).
   */
  beforeSign?: (op: OperationRow) => Promise<number | undefined>;
}

export interface EngineSettings {
  /** expiration − reference block time of new attempts (ms). */
  lifetimeMs: number;
  /** Wait after an attempt's expiration before asking the signer for a replacement (ms). */
  replacementMarginMs: number;
  /** How far past an attempt's expiration the solidified chain must be to call it expired (ms). */
  expiryMarginMs: number;
  /** Rebroadcast unseen bytes after this long (ms). */
  rebroadcastMs: number;
  /** How soon to look at a broadcast attempt again (ms). */
  followMs: number;
  /** How soon to recheck a held operation (ms). */
  holdRecheckMs: number;
  /** Attempts that expired unincluded before the operation is FAILED. */
  maxAttempts: number;
  /** fee_limit for USDT calls (sun). */
  feeLimitSun: bigint;
  /** The lease a claim takes (ms): longer than any step. */
  leaseMs: number;
}

/** The actor recorded in the audit log for the engine's own changes. */
export const ENGINE_ACTOR = "system:engine";
