import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ROOT } from "./files.js";

const PROJECT = "test";
let root: string;

/** Runs deploy/pi/<script> with a fake `docker` (test/deploy/fake-docker.sh) first on PATH. */
function run(script: string, args: string[], env: Record<string, string> = {}) {
  const res = spawnSync("bash", [join(ROOT, "deploy/pi", script), ...args], {
    encoding: "utf8",
    env: {
      ...process.env,
      PATH: `${join(root, "bin")}:${process.env.PATH}`,
      FAKE_ROOT: root,
      COMPOSE_PROJECT_NAME: PROJECT,
      ...env,
    },
  });
  return { code: res.status, out: `${res.stdout}${res.stderr}` };
}

const volume = (name: string) => join(root, "volumes", `${PROJECT}_${name}`);
const calls = () => readFileSync(join(root, "calls.log"), "utf8");
// Random bytes behind a real age header: the script must copy them, not interpret them.
const keystore = Buffer.concat([Buffer.from("age-encryption.org/v1\n"), randomBytes(512)]);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tronpay-backup-"));
  mkdirSync(join(root, "bin"));
  copyFileSync(join(ROOT, "test/deploy/fake-docker.sh"), join(root, "bin/docker"));
  chmodSync(join(root, "bin/docker"), 0o755);
  writeFileSync(join(root, "calls.log"), "");
  writeFileSync(join(root, "db.dump"), "PGDMP fake dump");
  mkdirSync(volume("signer-data"), { recursive: true });
  mkdirSync(volume("edge-data"), { recursive: true });
  writeFileSync(join(volume("signer-data"), "keystore.age"), keystore);
  writeFileSync(join(volume("signer-data"), "journal.log"), "journal\n");
  writeFileSync(join(volume("edge-data"), "onion_ed25519_v3.key"), "ED25519-V3:key\n");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("deploy/pi/backup.sh", () => {
  it("dumps the database and copies the encrypted keystore byte for byte, private to the user", () => {
    const dest = join(root, "backup");
    const { code, out } = run("backup.sh", [dest]);
    expect(code, out).toBe(0);
    expect(readFileSync(join(dest, "tronpay.dump"), "utf8")).toBe("PGDMP fake dump");
    expect(readFileSync(join(dest, "keystore.age")).equals(keystore)).toBe(true);
    expect(readFileSync(join(dest, "onion_ed25519_v3.key"), "utf8")).toBe("ED25519-V3:key\n");
    expect(readFileSync(join(dest, "SHA256SUMS"), "utf8")).toMatch(/ {2}keystore\.age$/m);
    for (const f of ["tronpay.dump", "keystore.age", "journal.log"])
      expect(statSync(join(dest, f)).mode & 0o077, f).toBe(0);
    // Never the passphrase, never the signer's own commands (which would decrypt).
    expect(calls()).not.toMatch(/passphrase|signer backup|dist\/cli/);
  });

  it("refuses a keystore that is not age-encrypted", () => {
    writeFileSync(join(volume("signer-data"), "keystore.age"), '{"seed":"plain"}');
    const { code, out } = run("backup.sh", [join(root, "backup")]);
    expect(code).not.toBe(0);
    expect(out).toContain("not an age file");
  });

  it("refuses to write into an existing directory", () => {
    mkdirSync(join(root, "backup"));
    expect(run("backup.sh", [join(root, "backup")]).code).not.toBe(0);
  });
});

describe("deploy/pi/restore.sh", () => {
  function backupThenEmpty(): string {
    const dest = join(root, "backup");
    expect(run("backup.sh", [dest]).code).toBe(0);
    rmSync(join(root, "volumes"), { recursive: true });
    return dest;
  }

  it("puts back the keystore, journal and onion key (0600) and restores the dump", () => {
    const dest = backupThenEmpty();
    const { code, out } = run("restore.sh", [dest]);
    expect(code, out).toBe(0);
    const restored = join(volume("signer-data"), "keystore.age");
    expect(readFileSync(restored).equals(keystore)).toBe(true);
    expect(statSync(restored).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(volume("edge-data"), "onion_ed25519_v3.key"), "utf8")).toBe(
      "ED25519-V3:key\n",
    );
    expect(readFileSync(join(root, "restored.dump"), "utf8")).toBe("PGDMP fake dump");
  });

  it("does not replace an existing keystore without --force", () => {
    const dest = join(root, "backup");
    expect(run("backup.sh", [dest]).code).toBe(0);
    writeFileSync(join(volume("signer-data"), "keystore.age"), "other");
    const refused = run("restore.sh", [dest]);
    expect(refused.code).not.toBe(0);
    expect(readFileSync(join(volume("signer-data"), "keystore.age"), "utf8")).toBe("other");
    expect(run("restore.sh", [dest, "--force"]).code).toBe(0);
    expect(readFileSync(join(volume("signer-data"), "keystore.age")).equals(keystore)).toBe(true);
  });

  it("refuses a backup whose checksums do not match", () => {
    const dest = backupThenEmpty();
    writeFileSync(join(dest, "tronpay.dump"), "tampered");
    const { code, out } = run("restore.sh", [dest]);
    expect(code).not.toBe(0);
    expect(out).toContain("checksums do not match");
  });

  it("refuses while tronpay is running, or into a database that has tables", () => {
    const dest = backupThenEmpty();
    expect(run("restore.sh", [dest], { FAKE_RUNNING: "core" }).out).toContain("core is running");
    const { code, out } = run("restore.sh", [dest], { FAKE_TABLES: "12" });
    expect(code).not.toBe(0);
    expect(out).toContain("has tables already");
  });
});
