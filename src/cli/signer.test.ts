import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli as tronpay } from "../../test/helpers/cli.js";

// `tronpay signer init|backup|restore` on a temporary data directory, in this process.

const dir = mkdtempSync(join(tmpdir(), "tp-cli-signer-"));
const dataDir = join(dir, "signer");
const passphraseFile = join(dir, "passphrase");
const env = {
  TRONPAY_SIGNER_DATA_DIR: dataDir,
  TRONPAY_SIGNER_PASSPHRASE_FILE: passphraseFile,
  // A small scrypt work factor: the commands are under test, not the key derivation.
  TRONPAY_SIGNER_SCRYPT_LOG_N: "4",
};
const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));

beforeAll(() => {
  writeFileSync(passphraseFile, "correct horse battery staple\n", { mode: 0o600 });
  Object.assign(process.env, env);
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("tronpay signer", () => {
  it("creates a keystore, backs it up once, and restores the backup", async () => {
    const created = await tronpay("signer", "init");
    const keystore = join(dataDir, "keystore.age");
    expect(created).toContain(`Keystore created at ${keystore}.`);
    const phrase = /shown only once:\n\n {2}(.+)\n/.exec(created)?.[1] ?? "";
    expect(phrase.split(" ").length).toBeGreaterThanOrEqual(12);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);

    const backup = join(dir, "backup.age");
    expect(await tronpay("signer", "backup", "--out", backup)).toMatch(
      new RegExp(`^Backup of \\d+ keys written to ${backup}\\.\\n$`),
    );
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    // Never over an existing file.
    await expect(tronpay("signer", "backup", "--out", backup)).rejects.toThrow(/EEXIST/);

    rmSync(keystore);
    expect(await tronpay("signer", "restore", "--in", backup)).toMatch(
      new RegExp(`^Restored \\d+ keys to ${keystore}\\.\\n$`),
    );
    expect(existsSync(keystore)).toBe(true);
  });

  it("refuses to open the keystore with the wrong passphrase", async () => {
    const wrong = join(dir, "wrong");
    writeFileSync(wrong, "not it\n");
    process.env.TRONPAY_SIGNER_PASSPHRASE_FILE = wrong;
    try {
      await expect(tronpay("signer", "backup", "--out", join(dir, "never.age"))).rejects.toThrow(
        /decrypt|passphrase|identity/i,
      );
    } finally {
      process.env.TRONPAY_SIGNER_PASSPHRASE_FILE = passphraseFile;
    }
    expect(existsSync(join(dir, "never.age"))).toBe(false);
  });
});
