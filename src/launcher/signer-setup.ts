import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Keystore } from "../signer/keystore.js";
import type { LauncherPaths } from "./config.js";

/** What ensureKeystore found or made. */
export interface KeystoreSetup {
  created: boolean;
  keystore: string;
  passphraseFile: string;
}

/**
 * Makes sure the signer has a keystore: on first run creates the directory (0700), a random
 * passphrase file (0600) and the keystore. The mnemonic is dropped here on purpose: the
 * operator makes an encrypted backup with `tronpay signer backup` instead of reading 24 words
 * off a demo's terminal.
 */
export async function ensureKeystore(
  paths: LauncherPaths,
  scryptLogN: number,
): Promise<KeystoreSetup> {
  mkdirSync(paths.signer, { recursive: true, mode: 0o700 });
  chmodSync(paths.signer, 0o700);
  const result = { keystore: paths.keystore, passphraseFile: paths.passphrase };
  if (existsSync(paths.keystore)) {
    if (!existsSync(paths.passphrase)) {
      throw new Error(
        `${paths.keystore} exists but ${paths.passphrase} does not; restore the passphrase file or move the keystore away`,
      );
    }
    return { created: false, ...result };
  }
  if (!existsSync(paths.passphrase)) {
    writeFileSync(paths.passphrase, `${randomBytes(32).toString("base64url")}\n`, {
      mode: 0o600,
      flag: "wx",
    });
  }
  const passphrase = readFileSync(paths.passphrase, "utf8").trim();
  await Keystore.create(paths.keystore, { passphrase, scryptLogN });
  return { created: true, ...result };
}
