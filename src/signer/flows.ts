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

/**
 * Signs raw_data for an intent, or refuses with a stable reason. Reads top-down: decode,
 * check policy, check the journal, sign, journal durably, answer. Everything from the journal
 * check to the in-memory append runs in one synchronous stretch, so concurrent requests for
 * one operation (or one key's caps) cannot interleave.
 */
export async function signTransaction(
  deps: SignerDeps,
  intent: Intent,
  rawData: Uint8Array,
): Promise<SignResult> {
  const raw = decode(rawData, deps.maxRawBytes);
  const txId = txIdOf(rawData);
  if (!deps.keystore.has(intent.owner)) {
    throw new AppError("signer.unknown_key", "the owner is not one of the signer's keys");
  }
  const now = deps.clock();
  checkAgainstPolicy(raw, intent, deps.policy, (a) => deps.keystore.has(a), now);

  const previous = deps.journal.entryForTxId(txId);
  if (previous) {
    if (previous.operationId !== intent.operationId) {
      throw new AppError(
        "signer.replacement_refused",
        "this transaction was signed for another operation",
      );
    }
    await deps.journal.sync();
    return {
      txId,
      signature: Buffer.from(previous.signature, "hex"),
      journalSeq: previous.seq,
      reused: true,
    };
  }
  checkReplacement(deps, intent, now);
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
  await durable;
  deps.log.info(
    { operationId: intent.operationId, txId, seq: entry.seq, kind: intent.kind },
    "signed",
  );
  return { txId, signature, journalSeq: entry.seq, reused: false };
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
 */
function checkReplacement(deps: SignerDeps, intent: Intent, now: number): void {
  const latest = deps.journal.entriesFor(intent.operationId).at(-1);
  if (!latest) {
    if (intent.previousTxId !== "") {
      throw new AppError(
        "signer.replacement_refused",
        "the replaced transaction was never signed here",
      );
    }
    return;
  }
  // The latest signature is named in the refusal: a core that crashed after this signer answered
  // and before it stored the attempt learns of it here, and can replace it once it expired.
  const metadata = {
    latest_tx_id: latest.txId,
    replace_after_ms: String(latest.expiration + deps.policy.replacementMarginMs),
  };
  if (intent.previousTxId !== latest.txId) {
    throw new AppError(
      "signer.replacement_refused",
      "another transaction for this operation was signed; name it as previous_tx_id to replace it",
      { metadata },
    );
  }
  if (now <= latest.expiration + deps.policy.replacementMarginMs) {
    throw new AppError(
      "signer.replacement_refused",
      "the previous transaction could still be included",
      { metadata },
    );
  }
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
