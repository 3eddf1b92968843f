import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type {
  SignerService,
  SignIntent,
  SignTransactionRequest,
} from "../gen/tronpay/signer/v1/signer_pb.js";
import { IntentKind } from "../gen/tronpay/signer/v1/signer_pb.js";
import { Asset, Resource } from "../gen/tronpay/v1/common_pb.js";
import { normalizeAddress } from "../shared/address.js";
import type { AuditCheckpoint } from "../shared/audit-checkpoint.js";
import { AppError } from "../shared/errors.js";
import { formatAmount, parseBaseUnits } from "../shared/money.js";
import type { CheckpointJournal } from "./audit-checkpoints.js";
import {
  type BatchItem,
  type SignerDeps,
  type SignResult,
  signTransaction,
  signTransactions,
} from "./flows.js";
import { type IntentKind as DomainKind, type Intent, isIntentKind } from "./policy.js";

/** What the handlers need beyond the signing flow's dependencies. */
export interface SignerHandlerDeps extends SignerDeps {
  backupRecipients: readonly string[];
  /** Audit checkpoints: the audit key and the journal of what it signed. */
  checkpoints: CheckpointJournal;
}

const OPERATION_ID = /^[\x21-\x7e]{1,128}$/;

/** Most transactions one SignTransactions call signs (signer.proto). */
export const MAX_BATCH_ITEMS = 256;

/** The SignerService: thin conversions around flows.ts and the keystore. */
export function createSignerHandlers(deps: SignerHandlerDeps): ServiceImpl<typeof SignerService> {
  return {
    async signTransaction(req) {
      const intent = intentFromProto(req.intent);
      const result = await signTransaction(deps, intent, req.rawData, req.previousRawData);
      return signedToProto(deps, result);
    },
    async signTransactions(req) {
      if (req.items.length === 0 || req.items.length > MAX_BATCH_ITEMS) {
        throw invalid("items", `items must hold 1 to ${MAX_BATCH_ITEMS} transactions`);
      }
      const results = await signTransactions(deps, req.items.map(batchItemFromProto));
      return {
        results: results.map((r) =>
          r instanceof AppError
            ? {
                result: {
                  case: "error" as const,
                  value: { reason: r.reason, message: r.message, metadata: r.metadata },
                },
              }
            : { result: { case: "signed" as const, value: signedToProto(deps, r) } },
        ),
      };
    },
    async signAuditCheckpoint(req) {
      const { checkpoint, reused } = deps.checkpoints.sign(req.seq, req.hash);
      return {
        checkpoint: checkpointToProto(checkpoint),
        publicKey: deps.checkpoints.publicKey,
        reused,
      };
    },
    async listAuditCheckpoints(req) {
      if (req.pageSize > 1000) throw invalid("page_size", "page_size must be at most 1000");
      const latest = deps.checkpoints.latest();
      const page = req.latestOnly
        ? latest === undefined
          ? []
          : [latest]
        : deps.checkpoints.list(req.afterSeq, req.pageSize === 0 ? 1000 : req.pageSize);
      return {
        checkpoints: page.map(checkpointToProto),
        publicKey: deps.checkpoints.publicKey,
      };
    },
    async deriveKey(req) {
      if (req.label.length > 128) throw invalid("label", "label must be at most 128 characters");
      const key = await deps.keystore.derive(req.account, req.label);
      return {
        address: key.address,
        derivationPath: key.path,
        index: key.index,
        existing: key.existing,
      };
    },
    async listKeys() {
      return {
        keys: deps.keystore.list().map((k) => ({
          address: k.address,
          derivationPath: k.path,
          account: k.account,
          index: k.index,
          label: k.label,
          imported: k.imported,
          createdAt: k.importedAt === undefined ? undefined : timestampFromMs(k.importedAt),
        })),
      };
    },
    async importKey(req) {
      if (req.encryptedKey.length === 0 || req.encryptedKey.length > 64 * 1024) {
        throw invalid(
          "encrypted_key",
          "encrypted_key must be 1 byte to 64 KiB of age-encrypted data",
        );
      }
      const existingBefore = new Set(deps.keystore.list().map((k) => k.address));
      const key = await deps.keystore.importEncrypted(req.encryptedKey, req.label);
      return { address: key.address, existing: existingBefore.has(key.address) };
    },
    async exportBackup() {
      const backup = await deps.keystore.exportBackup(deps.backupRecipients);
      return {
        backup,
        recipients: [...deps.backupRecipients],
        keyCount: deps.keystore.list().length,
        createdAt: timestampFromMs(deps.clock()),
      };
    },
    async restoreBackup(req) {
      if (req.backup.length === 0 || req.backup.length > 16 * 1024 * 1024) {
        throw invalid("backup", "backup must be 1 byte to 16 MiB of age-encrypted data");
      }
      const { keys, added, present } = await deps.keystore.merge(req.backup);
      deps.log.info({ added, present }, "backup restored");
      return {
        keys: keys.map((k) => ({
          address: k.address,
          derivationPath: k.path,
          account: k.account,
          index: k.index,
          label: k.label,
          imported: k.imported,
        })),
        addedCount: added,
        presentCount: present,
      };
    },
    async getPolicy() {
      const p = deps.policy;
      const since = deps.clock() - 24 * 3_600_000;
      const used = (asset: "TRX" | "USDT") =>
        deps.keystore
          .list()
          .reduce((sum, k) => sum + deps.journal.signedSince(k.address, asset, since), 0n);
      return {
        allowedContractTypes: [...p.allowedContracts],
        usdtContract: p.usdtContract,
        caps: (["TRX", "USDT"] as const).map((asset) => ({
          asset: asset === "TRX" ? Asset.TRX : Asset.USDT,
          perTransactionMax: formatAmount(p.maxPerTx[asset]),
          rolling24hMax: formatAmount(p.maxPer24h[asset]),
          used24h: formatAmount(used(asset)),
        })),
        feeLimitMaxSun: p.maxFeeLimit,
        expirationWindow: { seconds: BigInt(Math.floor(p.maxLifetimeMs / 1000)), nanos: 0 },
        allowlistCount: p.allowlist.length,
        denylistCount: p.denylist.length,
        ageRecipient: await deps.keystore.recipient(),
        memoAllowed: p.allowMemo,
        ownReceiversOnly: p.ownReceiversOnly,
        replacementMargin: { seconds: BigInt(Math.floor(p.replacementMarginMs / 1000)), nanos: 0 },
        allowlist: [...p.allowlist],
        denylist: [...p.denylist],
        importedKeyCoolingOff: {
          seconds: BigInt(Math.floor(p.importedKeyCoolingOffMs / 1000)),
          nanos: 0,
        },
      };
    },
  };
}

type ProtoIntentName = Exclude<keyof typeof IntentKind, "UNSPECIFIED">;
// The proto and the policy name the same intent kinds: this fails to compile when either has
// a kind the other lacks.
const SAME_KINDS: [ProtoIntentName, DomainKind] extends [DomainKind, ProtoIntentName]
  ? true
  : never = true;
void SAME_KINDS;

/** The policy's kind of a proto intent kind; undefined for UNSPECIFIED or an unknown number. */
function kindOf(kind: IntentKind): DomainKind | undefined {
  const name = IntentKind[kind];
  return kind !== IntentKind.UNSPECIFIED && isIntentKind(name) ? name : undefined;
}

/** Validates and converts a proto intent; throws `request.invalid` naming the field. */
export function intentFromProto(p: SignIntent | undefined): Intent {
  if (!p) throw invalid("intent", "intent is required");
  if (!OPERATION_ID.test(p.operationId)) {
    throw invalid("intent.operation_id", "operation_id must be 1–128 printable ASCII characters");
  }
  const kind = kindOf(p.kind);
  if (!kind) throw invalid("intent.kind", "intent kind is required");
  if (p.asset !== Asset.TRX && p.asset !== Asset.USDT)
    throw invalid("intent.asset", "asset must be TRX or USDT");
  const previous = p.previousTxId ?? "";
  if (previous !== "" && !/^[0-9a-f]{64}$/.test(previous)) {
    throw invalid("intent.previous_tx_id", "previous_tx_id must be 64 lowercase hex characters");
  }
  return {
    operationId: p.operationId,
    kind,
    owner: normalizeAddress(p.ownerAddress, "intent.owner_address"),
    counterparty:
      p.counterpartyAddress === ""
        ? ""
        : normalizeAddress(p.counterpartyAddress, "intent.counterparty_address"),
    amount: parseBaseUnits(p.amount === "" ? "0" : p.amount, "intent.amount"),
    previousTxId: previous,
    asset: p.asset === Asset.TRX ? "TRX" : "USDT",
    resource:
      p.resource === Resource.ENERGY
        ? "ENERGY"
        : p.resource === Resource.BANDWIDTH
          ? "BANDWIDTH"
          : undefined,
    lock: p.lock,
    lockPeriodBlocks: p.lockPeriodBlocks,
    memo: p.memo ?? "",
  };
}

/** One batch item as the flow takes it; an invalid intent is that item's refusal. */
function batchItemFromProto(req: SignTransactionRequest): BatchItem {
  try {
    return {
      intent: intentFromProto(req.intent),
      rawData: req.rawData,
      previousRaw: req.previousRawData,
    };
  } catch (err) {
    if (err instanceof AppError) return { refused: err };
    throw err;
  }
}

function signedToProto(deps: SignerDeps, result: SignResult) {
  const entry = deps.journal.entryForTxId(result.txId);
  return {
    txId: result.txId,
    signature: result.signature,
    journalSeq: BigInt(result.journalSeq),
    reused: result.reused,
    expiresAt: entry ? timestampFromMs(entry.expiration) : undefined,
  };
}

function checkpointToProto(c: AuditCheckpoint) {
  return {
    seq: c.seq,
    hash: c.hash,
    signedAt: timestampFromMs(c.signedAtMs),
    signature: c.signature,
  };
}

function invalid(field: string, message: string): AppError {
  return new AppError("request.invalid", message, { metadata: { field } });
}
