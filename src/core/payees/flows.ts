import type { CommonQueryMethods } from "slonik";
import { normalizeAddress } from "../../shared/address.js";
import { AppError } from "../../shared/errors.js";
import type { PayloadOf } from "../events/catalog.js";
import { appendAudit } from "../kernel/audit.js";
import { emitEvent } from "../kernel/outbox.js";
import { isOwnWallet } from "../wallets/repo.js";
import {
  findPayeeRow,
  insertPayeeRow,
  type KycStatusName,
  type PayeeRow,
  softDeletePayeeRow,
  updatePayeeRow,
} from "./repo.js";

/** Who asks, when, and how long a new address waits before DIRECT may pay it. */
export interface PayeeCaller {
  principal: string;
  now: number;
  coolingOffMs: number;
}

/** A new payee in domain terms. */
export interface NewPayeeInput {
  tag: string;
  displayName: string;
  address: string;
  kycStatus: KycStatusName;
  allowlisted: boolean;
}

/** Changes to a payee; undefined fields stay as they are. */
export interface PayeeChanges {
  displayName?: string;
  address?: string;
  kycStatus?: KycStatusName;
  allowlisted?: boolean;
}

const TAG = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Throws request.invalid unless the tag is 1–64 characters of a-z, 0-9, '.', '_', '-'. */
export function checkTag(tag: string): void {
  // The database also insists on a leading letter or digit.
  if (!TAG.test(tag)) {
    throw new AppError(
      "request.invalid",
      "tag must be 1–64 characters of a-z, 0-9, '.', '_', '-'",
      {
        metadata: { field: "tag" },
      },
    );
  }
}

function checkDisplayName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 200) {
    throw new AppError("request.invalid", "display_name must be 1–200 characters", {
      metadata: { field: "display_name" },
    });
  }
  return trimmed;
}

async function checkAddress(db: CommonQueryMethods, text: string): Promise<string> {
  const address = normalizeAddress(text, "address");
  if (await isOwnWallet(db, address)) {
    throw new AppError("payout.recipient_is_own_wallet", "the address is one of our own wallets", {
      metadata: { field: "address" },
    });
  }
  return address;
}

/** Stores a new payee with an audit row and a payee.created event. */
export async function createPayee(
  tx: CommonQueryMethods,
  caller: PayeeCaller,
  input: NewPayeeInput,
): Promise<PayeeRow> {
  checkTag(input.tag);
  const displayName = checkDisplayName(input.displayName);
  const address = await checkAddress(tx, input.address);
  const row = await insertPayeeRow(
    tx,
    {
      tag: input.tag,
      display_name: displayName,
      address,
      kyc_status: input.kycStatus,
      allowlisted: input.allowlisted,
      address_usable_at: caller.now + caller.coolingOffMs,
      created_by: caller.principal,
    },
    caller.now,
  );
  if (!row) {
    throw new AppError("payee.tag_taken", "a payee with this tag exists or existed", {
      metadata: { field: "tag" },
    });
  }
  await record(tx, caller.principal, "payee.created", {
    tag: row.tag,
    address,
    allowlisted: row.allowlisted,
    kyc_status: row.kyc_status,
  });
  return row;
}

/**
 * Changes a live payee. A new address, or allowlisting a payee that was not, restarts the
 * cooling-off: either would otherwise let DIRECT pay an address nobody has had time to notice.
 */
export async function updatePayee(
  tx: CommonQueryMethods,
  caller: PayeeCaller,
  tag: string,
  changes: PayeeChanges,
): Promise<PayeeRow> {
  const current = await livePayee(tx, tag, true);
  const address =
    changes.address === undefined ? current.address : await checkAddress(tx, changes.address);
  const allowlisted = changes.allowlisted ?? current.allowlisted;
  const restart = address !== current.address || (allowlisted && !current.allowlisted);
  const row = await updatePayeeRow(
    tx,
    tag,
    {
      displayName:
        changes.displayName === undefined
          ? current.display_name
          : checkDisplayName(changes.displayName),
      address,
      kycStatus: changes.kycStatus ?? current.kyc_status,
      allowlisted,
      addressUsableAt: restart ? caller.now + caller.coolingOffMs : current.address_usable_at,
    },
    caller.now,
  );
  await record(tx, caller.principal, "payee.updated", {
    tag: row.tag,
    changed: diff(current, row),
    cooling_off_restarted: restart,
  });
  return row;
}

/** Soft-deletes a live payee; accepted payouts keep the address they resolved to. */
export async function deletePayee(
  tx: CommonQueryMethods,
  caller: PayeeCaller,
  tag: string,
): Promise<void> {
  const current = await livePayee(tx, tag, true);
  await softDeletePayeeRow(tx, tag, caller.now);
  await record(tx, caller.principal, "payee.deleted", {
    tag: current.tag,
    address: current.address,
  });
}

/** A live payee or payee.not_found. */
export async function livePayee(
  db: CommonQueryMethods,
  tag: string,
  forUpdate = false,
): Promise<PayeeRow> {
  const row = await findPayeeRow(db, tag, forUpdate);
  if (!row || row.deleted_at !== null) {
    throw new AppError("payee.not_found", "no payee with that tag", { metadata: { field: "tag" } });
  }
  return row;
}

/** The fields that differ, as {field: [before, after]} (for the audit log). */
function diff(before: PayeeRow, after: PayeeRow): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  for (const k of ["display_name", "address", "kyc_status", "allowlisted"] as const) {
    if (before[k] !== after[k]) out[k] = [before[k], after[k]];
  }
  return out;
}

/** The audit row (subject payee:<tag>) and outbox event of a change, in its transaction. */
async function record<T extends "payee.created" | "payee.updated" | "payee.deleted">(
  tx: CommonQueryMethods,
  actor: string,
  action: T,
  payload: PayloadOf<T>,
): Promise<void> {
  const { tag, ...details } = payload;
  await appendAudit(tx, { actor, action, subject: `payee:${tag}`, details });
  await emitEvent(tx, action, payload);
}
