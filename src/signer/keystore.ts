import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { HDKey } from "@scure/bip32";
import { generateMnemonic, mnemonicToSeedSync, validateMnemonic } from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { Decrypter, Encrypter, identityToRecipient } from "age-encryption";
import { toBase58 } from "../shared/address.js";
import { AppError } from "../shared/errors.js";
import { addressFromPrivateKey } from "../tron/keys.js";

/**
 * The signer's keys: a BIP39 seed (TRON path m/44'/195'/account'/0/index) plus imported
 * single keys, kept in one age-encrypted file so operators can use age/SOPS tools on it.
 * Private keys exist in plaintext only in this process's memory.
 */

/** How the keystore file is encrypted: a passphrase (scrypt) or an age X25519 identity. */
export type KeystoreCredential = { passphrase: string; scryptLogN?: number } | { identity: string };

/** A key's public description; never holds key material. */
export interface KeyInfo {
  address: string;
  /** Derivation path, or "" for an imported key. */
  path: string;
  account: number;
  index: number;
  label: string;
  imported: boolean;
  /** When an imported key was imported (ms since epoch); undefined for derived keys. */
  importedAt?: number;
}

interface StoredFile {
  version: 1;
  mnemonic: string;
  derived: { account: number; index: number; label: string }[];
  /** importedAt (ms) is absent in files written before it was recorded (see open). */
  imported: { privateKey: string; label: string; importedAt?: number }[];
}

/** The TRON derivation path for an account and index. */
export function tronPath(account: number, index: number): string {
  return `m/44'/195'/${account}'/0/${index}`;
}

/** An open, decrypted keystore. */
export class Keystore {
  private readonly keys = new Map<string, { info: KeyInfo; privateKey: Uint8Array }>();
  private root: HDKey;

  private constructor(
    private readonly path: string,
    private readonly credential: KeystoreCredential,
    private readonly file: StoredFile,
    private readonly clock: () => number = Date.now,
  ) {
    this.root = HDKey.fromMasterSeed(mnemonicToSeedSync(file.mnemonic));
    for (const d of file.derived) this.addDerived(d.account, d.index, d.label);
    for (const k of file.imported)
      this.addImported(hex.decode(k.privateKey), k.label, k.importedAt);
  }

  /**
   * Creates a new keystore file (refusing to overwrite one) and returns it with its mnemonic,
   * which the caller shows once and never stores elsewhere.
   */
  static async create(
    path: string,
    credential: KeystoreCredential,
    mnemonic = generateMnemonic(wordlist, 256),
    clock: () => number = Date.now,
  ): Promise<{ keystore: Keystore; mnemonic: string }> {
    if (existsSync(path)) throw new AppError("request.invalid", "a keystore already exists there");
    if (!validateMnemonic(mnemonic, wordlist)) {
      throw new AppError("request.invalid", "the mnemonic is not a valid BIP39 English phrase");
    }
    const file: StoredFile = { version: 1, mnemonic, derived: [], imported: [] };
    const keystore = new Keystore(path, credential, file, clock);
    await keystore.save();
    return { keystore, mnemonic };
  }

  /**
   * The 32-byte Ed25519 secret of the audit checkpoint key: HKDF-SHA256 of the BIP32 master key
   * under its own label, so it is no TRON key, and a restored backup signs with the same key.
   * It never leaves the signer.
   */
  auditSecret(): Uint8Array {
    const master = new Uint8Array([
      ...(this.root.privateKey as Uint8Array),
      ...(this.root.chainCode as Uint8Array),
    ]);
    return hkdf(
      sha256,
      master,
      undefined,
      new TextEncoder().encode("tronpay audit checkpoint key v1"),
      32,
    );
  }

  /** Opens and decrypts an existing keystore file. */
  static async open(
    path: string,
    credential: KeystoreCredential,
    clock: () => number = Date.now,
  ): Promise<Keystore> {
    const file = parseStored(await decrypt(readFileSync(path), credential));
    // A key imported before import times were recorded is dated now (and saved): its cooling-off
    // starts over rather than being assumed long past.
    const undated = file.imported.filter((k) => k.importedAt === undefined);
    for (const k of undated) k.importedAt = clock();
    const keystore = new Keystore(path, credential, file, clock);
    if (undated.length > 0) await keystore.save();
    return keystore;
  }

  /** Replaces the keystore at `path` with the contents of an encrypted backup. */
  static async restore(
    path: string,
    credential: KeystoreCredential,
    backup: Uint8Array,
  ): Promise<Keystore> {
    const file = parseStored(await decrypt(backup, credential));
    const keystore = new Keystore(path, credential, file);
    await keystore.save();
    return keystore;
  }

  /**
   * Adds the keys of an encrypted backup (readable with this keystore's credential) that are
   * not held yet, and persists. A backup of another seed is taken only by an empty keystore,
   * so a restore can never drop keys that exist. Returns the backup's keys and what was new.
   */
  async merge(backup: Uint8Array): Promise<{ keys: KeyInfo[]; added: number; present: number }> {
    let incoming: StoredFile;
    try {
      incoming = parseStored(await decrypt(backup, this.credential));
    } catch (cause) {
      throw new AppError(
        "request.invalid",
        "the backup does not decrypt with the signer's credential",
        { cause },
      );
    }
    const empty = this.file.derived.length === 0 && this.file.imported.length === 0;
    if (incoming.mnemonic !== this.file.mnemonic) {
      if (!empty) {
        throw new AppError(
          "request.invalid",
          "the backup holds another seed; restore it into a new keystore",
          {
            metadata: { field: "backup" },
          },
        );
      }
      this.file.mnemonic = incoming.mnemonic;
      this.root = HDKey.fromMasterSeed(mnemonicToSeedSync(incoming.mnemonic));
    }
    const before = new Set(this.keys.keys());
    for (const d of incoming.derived) {
      const known = this.file.derived.some((x) => x.account === d.account && x.index === d.index);
      if (!known) this.file.derived.push(d);
      this.addDerived(d.account, d.index, d.label);
    }
    for (const k of incoming.imported) {
      // A key new to this signer is dated now, whatever the backup says: nobody can date a key
      // back past its cooling-off by writing a backup.
      const held = this.file.imported.find((x) => x.privateKey === k.privateKey);
      const importedAt = held?.importedAt ?? this.clock();
      if (!held) this.file.imported.push({ ...k, importedAt });
      this.addImported(hex.decode(k.privateKey), k.label, importedAt);
    }
    await this.save();
    const keys = [
      ...incoming.derived.map(
        (d) => this.keys.get(this.addressOf(d.account, d.index)) as { info: KeyInfo },
      ),
      ...incoming.imported.map(
        (k) =>
          this.keys.get(toBase58(addressFromPrivateKey(hex.decode(k.privateKey)))) as {
            info: KeyInfo;
          },
      ),
    ].map((k) => ({ ...k.info }));
    const added = keys.filter((k) => !before.has(k.address)).length;
    return { keys, added, present: keys.length - added };
  }

  /** Public descriptions of every key, derived first. */
  list(): KeyInfo[] {
    return [...this.keys.values()].map((k) => ({ ...k.info }));
  }

  /** True when `address` (base58) is one of ours. */
  has(address: string): boolean {
    return this.keys.has(address);
  }

  /** When `address` was imported (ms), or undefined for a derived key or a stranger. */
  importedAt(address: string): number | undefined {
    return this.keys.get(address)?.info.importedAt;
  }

  /** The private key for an address, for signing inside this process only. */
  privateKeyFor(address: string): Uint8Array | undefined {
    return this.keys.get(address)?.privateKey;
  }

  /**
   * Derives the next key of an account, persists it, and returns its description. A label is
   * unique within an account: asking again with the same label returns the same key, so a
   * retried request never derives two.
   */
  async derive(account: number, label: string): Promise<KeyInfo & { existing: boolean }> {
    if (!Number.isInteger(account) || account < 0 || account >= 2 ** 31) {
      throw new AppError("request.invalid", "account must be an integer in [0, 2^31)", {
        metadata: { field: "account" },
      });
    }
    const same = this.file.derived.find((d) => d.account === account && d.label === label);
    if (same) return { ...this.addDerived(account, same.index, label), existing: true };
    const index = this.file.derived.filter((d) => d.account === account).length;
    this.file.derived.push({ account, index, label });
    const info = this.addDerived(account, index, label);
    await this.save();
    return { ...info, existing: false };
  }

  /** Imports a single key given as age-encrypted hex (decrypted with this keystore's credential). */
  async importEncrypted(encrypted: Uint8Array, label: string): Promise<KeyInfo> {
    let plain: string;
    try {
      plain = new TextDecoder().decode(await decrypt(encrypted, this.credential)).trim();
    } catch (cause) {
      throw new AppError(
        "request.invalid",
        "the key material does not decrypt with the signer's credential",
        { cause },
      );
    }
    if (!/^[0-9a-fA-F]{64}$/.test(plain)) {
      throw new AppError(
        "request.invalid",
        "the decrypted key material is not a 32-byte hex private key",
      );
    }
    const privateKey = hex.decode(plain.toLowerCase());
    const held = this.file.imported.find((k) => k.privateKey === plain.toLowerCase());
    const importedAt = held?.importedAt ?? this.clock();
    const info = this.addImported(privateKey, label, importedAt);
    if (!held) {
      this.file.imported.push({ privateKey: plain.toLowerCase(), label, importedAt });
      await this.save();
    }
    return info;
  }

  /**
   * The whole keystore for an offline backup, encrypted to the given age recipients, or with
   * the keystore's own credential when there are none.
   */
  async exportBackup(recipients: readonly string[] = []): Promise<Uint8Array> {
    const text = JSON.stringify(this.file);
    if (recipients.length === 0) return encrypt(text, this.credential);
    const e = new Encrypter();
    for (const r of recipients) e.addRecipient(r);
    return e.encrypt(text);
  }

  /** The age recipient of an identity credential ("" for a passphrase). */
  async recipient(): Promise<string> {
    return "identity" in this.credential ? identityToRecipient(this.credential.identity) : "";
  }

  private addressOf(account: number, index: number): string {
    const node = this.root.derive(tronPath(account, index));
    return toBase58(addressFromPrivateKey(node.privateKey as Uint8Array));
  }

  private addDerived(account: number, index: number, label: string): KeyInfo {
    const path = tronPath(account, index);
    const node = this.root.derive(path);
    if (!node.privateKey) throw new AppError("internal", "derivation produced no private key");
    const address = toBase58(addressFromPrivateKey(node.privateKey));
    const info: KeyInfo = { address, path, account, index, label, imported: false };
    this.keys.set(address, { info, privateKey: node.privateKey });
    return info;
  }

  private addImported(privateKey: Uint8Array, label: string, importedAt?: number): KeyInfo {
    let address: string;
    try {
      address = toBase58(addressFromPrivateKey(privateKey));
    } catch (cause) {
      throw new AppError("request.invalid", "the key is not a valid secp256k1 private key", {
        cause,
      });
    }
    const info: KeyInfo = {
      address,
      path: "",
      account: 0,
      index: 0,
      label,
      imported: true,
      importedAt,
    };
    this.keys.set(address, { info, privateKey });
    return info;
  }

  /** Writes the encrypted file atomically: temp file, fsync, rename, fsync the directory. */
  private async save(): Promise<void> {
    const data = await encrypt(JSON.stringify(this.file), this.credential);
    const tmp = `${this.path}.${randomBytes(6).toString("hex")}.tmp`;
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    const dir = openSync(dirname(this.path), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}

/** Encrypts bytes or text with a keystore credential (age format). */
export async function encrypt(
  data: Uint8Array | string,
  credential: KeystoreCredential,
): Promise<Uint8Array> {
  const e = new Encrypter();
  if ("passphrase" in credential) {
    e.setPassphrase(credential.passphrase);
    if (credential.scryptLogN) e.setScryptWorkFactor(credential.scryptLogN);
  } else {
    e.addRecipient(await identityToRecipient(credential.identity));
  }
  return e.encrypt(data);
}

/** Decrypts age-format bytes with a keystore credential. */
export async function decrypt(
  data: Uint8Array,
  credential: KeystoreCredential,
): Promise<Uint8Array> {
  const d = new Decrypter();
  if ("passphrase" in credential) d.addPassphrase(credential.passphrase);
  else d.addIdentity(credential.identity);
  return d.decrypt(data);
}

function parseStored(bytes: Uint8Array): StoredFile {
  const value = JSON.parse(new TextDecoder().decode(bytes)) as StoredFile;
  if (value?.version !== 1 || typeof value.mnemonic !== "string" || !Array.isArray(value.derived)) {
    throw new AppError("request.invalid", "not a tronpay keystore");
  }
  if (!Array.isArray(value.imported)) value.imported = [];
  return value;
}
