// The onion service's ED25519-V3 key, created once by Tor and kept in the edge's data
// directory (0600), so that the .onion address survives restarts of the edge and of Tor.
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../../shared/errors.js";

/** The file name inside the edge's data directory. */
export const ONION_KEY_FILE = "onion_ed25519_v3.key";

/** Tor's key blob: base64 of the 64-byte expanded ed25519 secret key. */
const BLOB = /^[A-Za-z0-9+/]{86}==$/;

/** Reads the stored key blob, or undefined when none was stored yet; refuses a readable-by-others file. */
export function loadOnionKey(dataDir: string): string | undefined {
  const path = join(dataDir, ONION_KEY_FILE);
  let text: string;
  try {
    // Whoever holds this key can impersonate the service: others must not be able to read it.
    if ((statSync(path).mode & 0o077) !== 0) {
      throw new AppError("config.invalid", `${path} must be readable by its owner only (0600)`);
    }
    text = readFileSync(path, "utf8").trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const blob = text.replace(/^ED25519-V3:/, "");
  if (!BLOB.test(blob)) throw new AppError("config.invalid", `${path} is not an ED25519-V3 key`);
  return blob;
}

/** Stores a key blob with mode 0600, atomically (a crash leaves the old file or the new one). */
export function saveOnionKey(dataDir: string, blob: string): void {
  if (!BLOB.test(blob)) {
    throw new AppError("tor.command_failed", "Tor returned an onion key in an unknown format");
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, ONION_KEY_FILE);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `ED25519-V3:${blob}\n`, { mode: 0o600, flag: "w" });
  // The mode option does not apply to an existing file; make sure.
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
