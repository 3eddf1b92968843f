import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AppError } from "../shared/errors.js";
import { newAccount } from "../tron/testing.js";
import { encrypt, Keystore } from "./keystore.js";
import { PASSPHRASE_FOR_TESTS } from "./testing.js";

const path = () => join(mkdtempSync(join(tmpdir(), "tp-ks-")), "keystore.age");

describe("Keystore", () => {
  it("reopens with the same keys, and derives idempotently by label", async () => {
    const p = path();
    const { keystore } = await Keystore.create(p, PASSPHRASE_FOR_TESTS);
    const a = await keystore.derive(0, "wal_a/PAYOUT");
    const again = await keystore.derive(0, "wal_a/PAYOUT");
    expect(again.address).toBe(a.address);
    expect(again.existing).toBe(true);
    const reopened = await Keystore.open(p, PASSPHRASE_FOR_TESTS);
    expect(reopened.list().map((k) => k.address)).toEqual([a.address]);
  });

  it("refuses to open with the wrong passphrase", async () => {
    const p = path();
    await Keystore.create(p, PASSPHRASE_FOR_TESTS);
    await expect(Keystore.open(p, { passphrase: "wrong", scryptLogN: 4 })).rejects.toThrow();
  });

  it("restores a backup into an empty keystore of another seed, with the same addresses", async () => {
    const { keystore: source } = await Keystore.create(path(), PASSPHRASE_FOR_TESTS);
    const keys = [
      await source.derive(0, "one"),
      await source.derive(0, "two"),
      await source.derive(1, "three"),
    ];
    const backup = await source.exportBackup();
    const { keystore: fresh } = await Keystore.create(path(), PASSPHRASE_FOR_TESTS);
    const result = await fresh.merge(backup);
    expect(result.added).toBe(3);
    expect(result.present).toBe(0);
    expect(
      fresh
        .list()
        .map((k) => k.address)
        .sort(),
    ).toEqual(keys.map((k) => k.address).sort());
    const again = await fresh.merge(backup);
    expect(again).toMatchObject({ added: 0, present: 3 });
  });

  it("adds the missing keys of a backup of the same seed and keeps its own", async () => {
    const p = path();
    const { keystore } = await Keystore.create(p, PASSPHRASE_FOR_TESTS);
    await keystore.derive(0, "kept");
    const backup = await keystore.exportBackup();
    await keystore.derive(0, "newer");
    const restored = await Keystore.restore(path(), PASSPHRASE_FOR_TESTS, backup);
    const imported = await restored.importEncrypted(
      await encrypt(Buffer.from(newAccount().priv).toString("hex"), PASSPHRASE_FOR_TESTS),
      "imported",
    );
    const result = await restored.merge(await keystore.exportBackup());
    expect(result).toMatchObject({ added: 1, present: 1 });
    expect(restored.list()).toHaveLength(3);
    expect(restored.has(imported.address)).toBe(true);
  });

  it("never lets a backup of another seed replace a keystore that holds keys", async () => {
    const { keystore: a } = await Keystore.create(path(), PASSPHRASE_FOR_TESTS);
    await a.derive(0, "a");
    const { keystore: b } = await Keystore.create(path(), PASSPHRASE_FOR_TESTS);
    await b.derive(0, "b");
    const err = await b.merge(await a.exportBackup()).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(b.list()).toHaveLength(1);
  });
});
