import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors.js";
import { loadOnionKey, ONION_KEY_FILE, saveOnionKey } from "./onion-key.js";

const dir = () => mkdtempSync(join(tmpdir(), "tronpay-onion-"));
// A random 64-byte blob in Tor's format; generated per run, never a real service key.
const blob = () => randomBytes(64).toString("base64");

describe("the onion key file", () => {
  it("is absent before the first publication", () => {
    expect(loadOnionKey(dir())).toBeUndefined();
  });

  it("is written with mode 0600 and read back unchanged", () => {
    const d = join(dir(), "edge");
    const key = blob();
    saveOnionKey(d, key);
    expect(statSync(join(d, ONION_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(d, ONION_KEY_FILE), "utf8")).toBe(`ED25519-V3:${key}\n`);
    expect(loadOnionKey(d)).toBe(key);
  });

  it("is refused when others may read it", () => {
    const d = dir();
    saveOnionKey(d, blob());
    chmodSync(join(d, ONION_KEY_FILE), 0o644);
    expect(() => loadOnionKey(d)).toThrow(AppError);
  });

  it("is refused when it does not hold an ED25519-V3 key", () => {
    const d = dir();
    writeFileSync(join(d, ONION_KEY_FILE), "RSA1024:abc\n", { mode: 0o600 });
    expect(() => loadOnionKey(d)).toThrow(/not an ED25519-V3 key/);
  });

  it("will not store a key in an unknown format", () => {
    expect(() => saveOnionKey(dir(), "not a key")).toThrow(AppError);
  });
});
