import { toBase58 } from "../shared/address.js";
import { AppError } from "../shared/errors.js";
import type { Logger } from "../shared/log.js";
import { signTxId } from "../tron/signature.js";
import { decodeTransactionRaw, TronDecodeError, type TxRaw, txIdOf } from "../tron/transaction.js";
import type { Journal } from "./journal.js";
import type { Keystore } from "./keystore.js";
import { capAssetOf, checkAgainstPolicy, type Intent, type Policy } from "./policy.js";

/** What the signing flow needs; passed in so tests can replace the clock. */
export interface SignerDeps {
  keystore: Keystore;
  journal: Journal;
  policy: Policy;
  clock: () => number;
  log: Logger;
  /** Largest raw_data accepted, in bytes. */
  maxRawBytes: number;
}

export interface SignResult {
  txId: string;
  signature: Uint8Array;
  journalSeq: number;
  /** True when this exact transaction had been signed before for this operation. */
  reused: boolean;
}

/** A signature decided and recorded in the journal's memory, not yet known durable. */
export interface PendingSignature {
  result: SignResult;
  /** Resolves once the journal entry behind `result` is on disk; never answer before it. */
  durable: Promise<void>;
}

/** One transaction of a batch: what SignTransaction takes, or why its intent is invalid. */
export type BatchItem =
  | { intent: Intent; rawData: Uint8Array; previousRaw?: Uint8Array }
  | { refused: AppError };

/**
 * Signs raw_data for an intent, or refuses with a stable reason; answers once the signature is
 * journaled durably.
 */
export async function signTransaction(
  deps: SignerDeps,
  intent: Intent,
  rawData: Uint8Array,
  /** raw_data of the transaction intent.previousTxId names, when core has it (see below). */
  previousRaw?: Uint8Array,
): Promise<SignResult> {
  const pending = decideSignature(deps, intent, rawData, previousRaw);
  await pending.durable;
  logSigned(deps, intent, pending.result);
  return pending.result;
}

/**
 * Signs a batch: each item goes through decideSignature in request order in one synchronous
 * stretch (so the items' journal entries share one group fsync, and an item sees the ones
 * before it as separate calls would), then answers once all are durable. A refused item
 * gets its AppError; anything else thrown fails the call, as it would fail SignTransaction.
 */
export async function signTransactions(
  deps: SignerDeps,
  items: readonly BatchItem[],
): Promise<(SignResult | AppError)[]> {
  const decided: (PendingSignature | AppError)[] = [];
  for (const item of items) {
    if ("refused" in item) {
      decided.push(item.refused);
      continue;
    }
    try {
      decided.push(decideSignature(deps, item.intent, item.rawData, item.previousRaw));
    } catch (err) {
      if (err instanceof AppError) {
        decided.push(err);
        continue;
      }
      // Not a refusal (a failed journal, on which the signer exits): the call fails as a whole,
      // and the items decided before it answer nothing either.
      for (const d of decided) if (!(d instanceof AppError)) d.durable.catch(() => {});
      throw err;
    }
  }
  await Promise.all(decided.map((d) => (d instanceof AppError ? undefined : d.durable)));
  return decided.map((d, i) => {
    if (d instanceof AppError) return d;
    const item = items[i] as { intent: Intent };
    logSigned(deps, item.intent, d.result);
    return d.result;
  });
}

/**
 * The one signing path. Reads top-down: decode, check policy, check the journal, sign, journal
 * (in memory at once, on disk with the next group). It is synchronous from the journal check
 * to the in-memory append, so concurrent requests for one operation (or one key's caps) cannot
 * interleave. Throws an AppError with a stable reason when it refuses.
 */
function decideSignature(
  deps: SignerDeps,
  intent: Intent,
  rawData: Uint8Array,
  previousRaw: Uint8Array | undefined,
): PendingSignature {
  const raw = decode(rawData, deps.maxRawBytes);
  const txId = txIdOf(rawData);
  if (!deps.keystore.has(intent.owner)) {
    throw new AppError("signer.unknown_key", "the owner is not one of the signer's keys");
  }
  const now = deps.clock();
  checkAgainstPolicy(
    raw,
    intent,
    deps.policy,
    (a) => deps.keystore.has(a),
    now,
    (a) => deps.keystore.importedAt(a),
  );

  const previous = deps.journal.entryForTxId(txId);
  if (previous) {
    if (previous.operationId !== intent.operationId) {
      throw new AppError(
        "signer.replacement_refused",
        "this transaction was signed for another operation",
      );
    }
    // It may have been appended a moment ago and still be on its way to disk.
    return {
      result: {
        txId,
        signature: Buffer.from(previous.signature, "hex"),
        journalSeq: previous.seq,
        reused: true,
      },
      durable: deps.journal.durableThrough(previous.seq),
    };
  }
  checkReplacement(deps, intent, now, previousRaw);
  checkDailyCap(deps, intent, now);

  const key = deps.keystore.privateKeyFor(intent.owner) as Uint8Array;
  const signature = signTxId(txId, key);
  const { entry, durable } = deps.journal.append({
    operationId: intent.operationId,
    txId,
    owner: intent.owner,
    kind: intent.kind,
    amount: intent.amount,
    asset: capAssetOf(intent.kind),
    expiration: Number(raw.expiration),
    signature: Buffer.from(signature).toString("hex"),
    previousTxId: intent.previousTxId,
  });
  return { result: { txId, signature, journalSeq: entry.seq, reused: false }, durable };
}

function logSigned(deps: SignerDeps, intent: Intent, result: SignResult): void {
  if (result.reused) return;
  deps.log.info(
    {
      operationId: intent.operationId,
      txId: result.txId,
      seq: result.journalSeq,
      kind: intent.kind,
    },
    "signed",
  );
}

function decode(rawData: Uint8Array, maxRawBytes: number): TxRaw {
  if (rawData.length === 0 || rawData.length > maxRawBytes) {
    throw new AppError("signer.malformed_transaction", `raw_data must be 1..${maxRawBytes} bytes`, {
      metadata: { code: "size" },
    });
  }
  try {
    return decodeTransactionRaw(rawData);
  } catch (err) {
    if (err instanceof TronDecodeError) {
      throw new AppError(
        "signer.malformed_transaction",
        "raw_data is not a valid single-contract transaction",
        {
          cause: err,
          metadata: { code: err.code },
        },
      );
    }
    throw err;
  }
}

/**
 * The rule that prevents a double payout: a second, different transaction for an operation
 * is signed only when the intent names the latest one as replaced and that one's expiration
 * has passed by the safety margin (so it can never be included any more).
 *
 * The latest one may have been signed by another signer (core replicas, each with its own
 * signer and journal). Then core sends its raw_data: the bytes prove their txID (sha256), and
 * their own expiration is what must have passed; every transaction this signer signed for the
 * operation must have expired too. Anything signed elsewhere and never stored by core was never
 * broadcast (core stores an attempt before it sends it), so it cannot be included either.
 */
function checkReplacement(
  deps: SignerDeps,
  intent: Intent,
  now: number,
  previousRaw: Uint8Array | undefined,
): void {
  const mine = deps.journal.entriesFor(intent.operationId);
  const latest = mine.at(-1);
  if (!latest && intent.previousTxId === "") return;
  const margin = deps.policy.replacementMarginMs;
  // The latest signature is named in the refusal: a core that crashed after this signer answered
  // and before it stored the attempt learns of it here, and can replace it once it expired.
  const metadata = latest
    ? { latest_tx_id: latest.txId, replace_after_ms: String(latest.expiration + margin) }
    : undefined;
  const refuse = (message: string) =>
    new AppError("signer.replacement_refused", message, metadata ? { metadata } : {});
  let expiration: number;
  if (latest && intent.previousTxId === latest.txId) {
    expiration = latest.expiration;
  } else if (intent.previousTxId !== "" && previousRaw && previousRaw.length > 0) {
    expiration = provenPrevious(deps, intent, previousRaw);
    // Named something signed elsewhere: nothing signed here for the operation may still count.
    if (mine.some((e) => now <= e.expiration + margin)) {
      throw refuse("a transaction signed here for this operation could still be included");
    }
  } else if (latest) {
    throw refuse(
      "another transaction for this operation was signed; name it as previous_tx_id to replace it",
    );
  } else {
    throw refuse("the replaced transaction was never signed here and its raw_data was not sent");
  }
  if (now <= expiration + margin) throw refuse("the previous transaction could still be included");
}

/**
 * Checks the replaced transaction's bytes (signed by another signer): they hash to the named
 * txID, decode as a transaction, and belong to the intent's owner. Returns their expiration.
 */
function provenPrevious(deps: SignerDeps, intent: Intent, previousRaw: Uint8Array): number {
  const refused = (message: string) => new AppError("signer.replacement_refused", message);
  if (txIdOf(previousRaw) !== intent.previousTxId) {
    throw refused("previous_raw_data does not hash to previous_tx_id");
  }
  let previous: TxRaw;
  try {
    previous = decode(previousRaw, deps.maxRawBytes);
  } catch {
    throw refused("previous_raw_data is not a valid transaction");
  }
  if (toBase58(previous.contract.owner) !== intent.owner) {
    throw refused("the replaced transaction belongs to another owner");
  }
  return Number(previous.expiration);
}

function checkDailyCap(deps: SignerDeps, intent: Intent, now: number): void {
  const asset = capAssetOf(intent.kind);
  if (asset === "NONE") return;
  const used = deps.journal.signedSince(intent.owner, asset, now - 24 * 3_600_000);
  if (used + intent.amount > deps.policy.maxPer24h[asset]) {
    throw new AppError(
      "signer.policy_denied",
      `the rolling 24-hour cap for ${asset} would be exceeded`,
      {
        metadata: { rule: "max_per_24h" },
      },
    );
  }
}
