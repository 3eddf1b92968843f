import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { reasonOf } from "../../shared/errors.js";
import { createSecretBox } from "./secret-box.js";

describe("webhook secret box", () => {
  const box = createSecretBox(randomBytes(32).toString("base64"));

  it("opens what it sealed, and the sealed bytes do not contain the secret", () => {
    const secret = randomBytes(32);
    const sealed = box.seal("wh_a", secret);
    expect(sealed.includes(secret)).toBe(false);
    expect(Buffer.from(box.open("wh_a", sealed))).toEqual(secret);
  });

  it("refuses a sealed secret moved to another endpoint or altered", () => {
    const sealed = box.seal("wh_a", randomBytes(32));
    expect(() => box.open("wh_b", sealed)).toThrow();
    const altered = Buffer.from(sealed);
    altered[20] = (altered[20] ?? 0) ^ 1;
    expect(() => box.open("wh_a", altered)).toThrow();
  });

  it("refuses to seal without a configured key", () => {
    let reason: string | undefined;
    try {
      createSecretBox("").seal("wh_a", randomBytes(32));
    } catch (err) {
      reason = reasonOf(err);
    }
    expect(reason).toBe("webhook.secret_key_unset");
  });
});
