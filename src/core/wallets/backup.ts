import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import type { SignerService } from "../../gen/tronpay/signer/v1/signer_pb.js";
import {
  type BackupWalletsResponse,
  BackupWalletsResponseSchema,
} from "../../gen/tronpay/v1/wallet_pb.js";
import { appendAudit } from "../kernel/audit.js";

/**
 * Asks the signer for a backup encrypted to its configured recipients (never ones from the
 * request) and records who took it: a backup holds every key, so each export is audited.
 */
export async function exportBackup(
  pool: DatabasePool,
  signer: Client<typeof SignerService>,
  principal: string,
): Promise<BackupWalletsResponse> {
  const backup = await signer.exportBackup({});
  await pool.transaction((tx) =>
    appendAudit(tx, {
      actor: principal,
      action: "wallet.backup_exported",
      subject: "wallets",
      details: { keyCount: backup.keyCount, recipients: backup.recipients },
    }),
  );
  return create(BackupWalletsResponseSchema, {
    backup: backup.backup,
    recipients: backup.recipients,
    keyCount: backup.keyCount,
    createdAt: backup.createdAt,
  });
}
