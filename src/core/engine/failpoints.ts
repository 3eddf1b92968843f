/**
 * Failpoints for crash tests and the chaos harness: when TRONPAY_FAILPOINT names a point, the
 * process kills itself with SIGKILL the first time it gets there — exactly the crash a power
 * cut or OOM kill would cause, at a moment a test chooses. Unset (always, in production), a
 * failpoint is one string comparison.
 */
export type Failpoint =
  /** The signer answered; the attempt is not stored yet (the signature is an orphan). */
  | "after_signed"
  /** The signed attempt is committed; nothing has been broadcast. */
  | "after_attempt_stored"
  /** The node answered the broadcast; the answer is not recorded yet. */
  | "after_broadcast"
  /** The receipt is read from the solidified chain; the confirmation is not committed yet. */
  | "before_settle"
  /** The follower inserted a block's transfers; their transaction is not committed yet. */
  | "follower_before_commit";

const armed = process.env.TRONPAY_FAILPOINT;

/** Dies here (SIGKILL) if this failpoint is armed. */
export function failpoint(name: Failpoint): void {
  if (armed === name) process.kill(process.pid, "SIGKILL");
}
