import type { Client } from "@connectrpc/connect";
import type { CommonQueryMethods } from "slonik";
import type { SignerService } from "../../gen/tronpay/signer/v1/signer_pb.js";
import { appendAudit } from "../kernel/audit.js";
import { newId } from "../kernel/ids.js";
import { insertWallet, type WalletRow } from "./repo.js";

/** The signer as the wallet flows use it. */
export type WalletSigner = Pick<
  Client<typeof SignerService>,
  "deriveKey" | "importKey" | "restoreBackup"
>;

/** What a new wallet is: its label and purpose, and (to import) the encrypted key. */
export interface NewWallet {
  label: string;
  purpose: WalletRow["purpose"];
}

/**
 * Has the signer derive the key of account `account` and stores the wallet (its public side
 * only) in `tx`. The wallet id is the signer's label, so a retried derive returns the same key.
 */
export async function createWallet(
  tx: CommonQueryMethods,
  signer: WalletSigner,
  principal: string,
  w: NewWallet & { account: number },
): Promise<WalletRow> {
  const id = newId("wal");
  const key = await signer.deriveKey({ account: w.account, label: signerLabel(id, w.purpose) });
  return insertWallet(tx, {
    id,
    address: key.address,
    label: w.label,
    purpose: w.purpose,
    derivation_path: key.derivationPath,
    imported: false,
    created_by: principal,
  });
}

/**
 * Hands an encrypted key to the signer (only it decrypts; core passes the ciphertext through
 * and logs none of it), stores the wallet and audits the import as a key event of its own.
 */
export async function importWallet(
  tx: CommonQueryMethods,
  signer: WalletSigner,
  principal: string,
  w: NewWallet & { encryptedKey: Uint8Array },
): Promise<WalletRow> {
  const id = newId("wal");
  const key = await signer.importKey({
    encryptedKey: w.encryptedKey,
    label: signerLabel(id, w.purpose),
  });
  const row = await insertWallet(tx, {
    id,
    address: key.address,
    label: w.label,
    purpose: w.purpose,
    derivation_path: "",
    imported: true,
    created_by: principal,
  });
  // A key someone outside the signer knows is a key event, audited apart from wallet
  // creation so a review of who brought keys in does not have to infer it.
  await appendAudit(tx, {
    actor: principal,
    action: "wallet.key_imported",
    subject: row.id,
    details: { address: row.address, purpose: row.purpose, alreadyHeld: key.existing },
  });
  return row;
}

/** Hands a backup to the signer and stores back every wallet whose key it holds now. */
export async function restoreWallets(
  tx: CommonQueryMethods,
  signer: WalletSigner,
  principal: string,
  backup: Uint8Array,
): Promise<{ wallets: WalletRow[]; addedCount: number; presentCount: number }> {
  const restored = await signer.restoreBackup({ backup });
  const wallets = [];
  for (const key of restored.keys) {
    const { id, purpose } = parseSignerLabel(key.label);
    wallets.push(
      await insertWallet(tx, {
        id: id ?? newId("wal"),
        address: key.address,
        label: "restored",
        purpose,
        derivation_path: key.derivationPath,
        imported: key.imported,
        created_by: principal,
      }),
    );
  }
  return { wallets, addedCount: restored.addedCount, presentCount: restored.presentCount };
}

/** The signer's label for a wallet's key: its id and purpose, so a restore can rebuild both. */
function signerLabel(id: string, purpose: string): string {
  return `${id}/${purpose}`;
}

/** Reads a signer label back; keys labelled otherwise get a new id and purpose HOT. */
function parseSignerLabel(label: string): { id?: string; purpose: WalletRow["purpose"] } {
  const m = /^(wal_[a-z2-7]{26})(?:\/(HOT|PAYOUT|FEE|STAKING))?$/.exec(label);
  return { id: m?.[1], purpose: (m?.[2] as WalletRow["purpose"] | undefined) ?? "HOT" };
}
