import { Code } from "@connectrpc/connect";

/**
 * The one error catalog: every stable reason a client can see, the Connect code it maps to,
 * and what it means. HTTP statuses derive from the code (see errors.ts). A test fails when a
 * reason used in src/ is missing here, appears twice, or has no description; docs/errors.md
 * is generated from this list and checked to be current.
 */
const entries = [
  // request shape
  [
    "request.invalid",
    Code.InvalidArgument,
    "The request is malformed or a field fails validation; metadata.field names it.",
  ],
  [
    "request.too_large",
    Code.ResourceExhausted,
    "The request body is larger than the server accepts.",
  ],
  [
    "request.idempotency_key_missing",
    Code.InvalidArgument,
    "A write was sent without an idempotency key.",
  ],
  [
    "request.idempotency_key_invalid",
    Code.InvalidArgument,
    "The idempotency key is empty, longer than 255 characters or not printable ASCII.",
  ],
  [
    "request.idempotency_key_mismatch",
    Code.InvalidArgument,
    "REST: the Idempotency-Key header and the body's idempotency_key are both set and differ.",
  ],
  [
    "request.timeout",
    Code.DeadlineExceeded,
    "The request's headers or body did not arrive within the edge's timeout (HTTP 408); the connection is closed.",
  ],
  [
    "request.idempotency_key_reused",
    Code.FailedPrecondition,
    "The idempotency key was already used with a different request.",
  ],
  [
    "request.idempotency_in_progress",
    Code.Aborted,
    "A request with the same idempotency key is still being processed; retry shortly.",
  ],
  [
    "request.unsupported",
    Code.Unimplemented,
    "The request uses a field or option this server does not support yet; metadata.field names it.",
  ],
  [
    "request.not_found",
    Code.NotFound,
    "The named resource does not exist (or the caller may not see it).",
  ],
  [
    "request.method_not_allowed",
    Code.Unimplemented,
    "REST: the path exists but not for this HTTP method (HTTP 405); the Allow header lists the methods.",
  ],
  [
    "request.unsupported_media_type",
    Code.InvalidArgument,
    "REST: the request body is not application/json (HTTP 415).",
  ],
  // money and addresses
  [
    "money.invalid_amount",
    Code.InvalidArgument,
    "An amount is not a plain decimal string with at most 6 fractional digits.",
  ],
  [
    "money.out_of_range",
    Code.InvalidArgument,
    "An amount is zero or negative where it must be positive, or above 2^63-1 base units.",
  ],
  ["money.asset_unspecified", Code.InvalidArgument, "An amount does not name its asset."],
  [
    "address.invalid",
    Code.InvalidArgument,
    "A TRON address is not base58check (T…) or 41-hex, or its checksum fails.",
  ],
  // configuration
  [
    "config.invalid",
    Code.FailedPrecondition,
    "The process configuration failed validation at start.",
  ],
  // authentication and authorization
  ["auth.unauthenticated", Code.Unauthenticated, "No valid credentials were presented."],
  [
    "auth.permission_denied",
    Code.PermissionDenied,
    "The caller's roles do not allow this RPC; metadata.required names the roles.",
  ],
  [
    "auth.rate_limited",
    Code.ResourceExhausted,
    "Too many requests; metadata.retry_after_ms says when to retry (and metadata.limit the bucket's size). REST answers 429 with Retry-After.",
  ],
  // payouts
  ["payout.not_found", Code.NotFound, "No payout with that id."],
  [
    "payout.invalid_state",
    Code.FailedPrecondition,
    "The payout's state does not allow this action.",
  ],
  [
    "payout.limit_exceeded",
    Code.FailedPrecondition,
    "The payout exceeds its route's per-payout or daily limit.",
  ],
  [
    "payout.recipient_is_own_wallet",
    Code.InvalidArgument,
    "The recipient is one of our own wallets.",
  ],
  [
    "payout.kyc_signature_invalid",
    Code.InvalidArgument,
    "A KYC payout's compliance signature is missing, expired, names an unknown key_id or does not match.",
  ],
  [
    "payout.kyc_signature_reused",
    Code.FailedPrecondition,
    "The compliance signature was already used by another payout; each signed approval pays once.",
  ],
  [
    "payout.batch_invalid",
    Code.InvalidArgument,
    "A batch is empty, over 1000 items, has duplicates or bad items; details list them.",
  ],
  ["payout.paused", Code.Unavailable, "Payouts are paused by an administrator."],
  [
    "payout.attempts_exhausted",
    Code.Aborted,
    "A payout's failure reason: every attempt it was allowed (maxAttempts) expired unincluded; retrying it starts over.",
  ],
  [
    "payout.approver_same_owner",
    Code.PermissionDenied,
    "The approving key has the same owner as the payout's creator; four-eyes needs another person (metadata.owner).",
  ],
  // webhooks
  ["webhook.not_found", Code.NotFound, "No webhook endpoint or delivery with that id."],
  [
    "webhook.destination_refused",
    Code.InvalidArgument,
    "The webhook URL resolves to a private, loopback, link-local or special-purpose address.",
  ],
  [
    "webhook.secret_key_unset",
    Code.FailedPrecondition,
    "Core has no webhook secret key configured, so it cannot store signing secrets.",
  ],
  // payees
  ["payee.not_found", Code.NotFound, "No payee with that tag (or it was deleted)."],
  [
    "payee.tag_taken",
    Code.AlreadyExists,
    "A payee with that tag exists or existed; tags of deleted payees are not reused.",
  ],
  // chain and node
  [
    "node.unavailable",
    Code.Unavailable,
    "The TRON node cannot be reached or its circuit breaker is open.",
  ],
  [
    "node.bad_response",
    Code.Unavailable,
    "The TRON node answered something we could not understand.",
  ],
  [
    "chain.build_failed",
    Code.Internal,
    "tronweb failed to build a transaction or built one that differs from the request.",
  ],
  [
    "chain.call_reverted",
    Code.FailedPrecondition,
    "The contract call would revert now (e.g. the sender lacks USDT); metadata.message says why.",
  ],
  // signer
  ["signer.unavailable", Code.Unavailable, "The signer cannot be reached."],
  [
    "signer.policy_denied",
    Code.PermissionDenied,
    "The signer's policy refuses this transaction; metadata.rule names the rule.",
  ],
  [
    "signer.intent_mismatch",
    Code.InvalidArgument,
    "The transaction bytes do not match the declared intent.",
  ],
  [
    "signer.malformed_transaction",
    Code.InvalidArgument,
    "raw_data does not decode as exactly one TRON transaction.",
  ],
  [
    "signer.unknown_key",
    Code.FailedPrecondition,
    "The owner address is not one of the signer's keys.",
  ],
  [
    "signer.replacement_refused",
    Code.FailedPrecondition,
    "A different transaction for this operation was signed and could still be included.",
  ],
  [
    "signer.audit_checkpoint_conflict",
    Code.FailedPrecondition,
    "The audit head is below, or differs from, a checkpoint the signer already signed: the chain was cut back or rewritten.",
  ],
  // edge
  [
    "edge.overloaded",
    Code.Unavailable,
    "The edge is serving as many requests as it is configured to; retry shortly (HTTP 503).",
  ],
  [
    "edge.core_unavailable",
    Code.Unavailable,
    "The edge cannot reach core, or core did not answer in time.",
  ],
  // tor
  [
    "tor.unavailable",
    Code.Unavailable,
    "Tor's control or SOCKS port cannot be reached or did not answer in time; nothing is sent without Tor.",
  ],
  [
    "tor.auth_failed",
    Code.FailedPrecondition,
    "Tor's control port refused our credentials (cookie or password) or offers no authentication.",
  ],
  [
    "tor.command_failed",
    Code.Internal,
    "Tor refused a control command (e.g. publishing the onion service); details are in the server log.",
  ],
  // wallets, USDT and staking
  ["wallet.not_found", Code.NotFound, "No tronpay wallet with that id."],
  [
    "wallet.insufficient_trx",
    Code.FailedPrecondition,
    "The wallet's spendable TRX does not cover the amount (plus a margin for fees).",
  ],
  [
    "wallet.insufficient_usdt",
    Code.FailedPrecondition,
    "A hold reason: the wallet's USDT does not cover the transfer; it is signed once the wallet is topped up.",
  ],
  [
    "wallet.insufficient_trx_for_energy",
    Code.FailedPrecondition,
    "A hold reason: the wallet has too little staked energy for a USDT call and too little TRX to burn for it (the fee limit).",
  ],
  [
    "staking.insufficient_stake",
    Code.FailedPrecondition,
    "The wallet has less TRX staked for that resource (not delegated away) than asked for.",
  ],
  [
    "staking.too_many_unfreezes",
    Code.FailedPrecondition,
    "The wallet already has the chain's maximum of pending unfreezes (32); withdraw first.",
  ],
  [
    "staking.receiver_not_own",
    Code.FailedPrecondition,
    "Resources may be delegated only to tronpay's own wallets, other than the lender.",
  ],
  [
    "staking.insufficient_delegation",
    Code.FailedPrecondition,
    "Less is delegated to that receiver for that resource than asked to undelegate.",
  ],
  [
    "wallet.key_cooling_off",
    Code.FailedPrecondition,
    "The wallet's key was imported less than the signer's cooling-off period ago; it may not receive an allowance or a delegation yet (metadata.usable_at).",
  ],
  [
    "usdt.spender_not_allowed",
    Code.FailedPrecondition,
    "A USDT allowance may go only to an allowlisted payee past its cooling-off period or to a tronpay HOT or PAYOUT wallet.",
  ],
  [
    "staking.nothing_to_withdraw",
    Code.FailedPrecondition,
    "No unfrozen TRX has passed its waiting period yet; nothing would be withdrawn.",
  ],
  // internal
  [
    "internal",
    Code.Internal,
    "An unexpected error; details are in the server log, not in the response.",
  ],
] as const satisfies readonly (readonly [string, Code, string])[];

/** A stable error reason. */
export type Reason = (typeof entries)[number][0];

/** One catalog entry. */
export interface CatalogEntry {
  readonly code: Code;
  readonly doc: string;
}

/** The raw entries, in catalog order (used by the catalog tests). */
export const catalogEntries: readonly (readonly [Reason, Code, string])[] = entries;

/** Reason → entry. */
export const catalog: Readonly<Record<Reason, CatalogEntry>> = Object.freeze(
  Object.fromEntries(
    entries.map(([reason, code, doc]) => [reason, Object.freeze({ code, doc })]),
  ) as Record<Reason, CatalogEntry>,
);
