import { createHmac, randomBytes } from "node:crypto";

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `id.timestamp.body` keyed with the secret's decoded base64 part, sent as `v1,<base64>`.
 * Written here because it is one HMAC call; the tests verify it with the `standardwebhooks`
 * package.
 */

const PREFIX = "whsec_";

/** A new signing secret: 32 random bytes. */
export function newSecret(): Uint8Array {
  return randomBytes(32);
}

/** The secret as shown to the user: "whsec_" + base64. */
export function formatSecret(secret: Uint8Array): string {
  return PREFIX + Buffer.from(secret).toString("base64");
}

/** One `v1,<base64>` signature of a message. */
export function signatureOf(
  secret: Uint8Array,
  msgId: string,
  timestampSec: number,
  body: string,
): string {
  const mac = createHmac("sha256", secret).update(`${msgId}.${timestampSec}.${body}`).digest();
  return `v1,${mac.toString("base64")}`;
}

/**
 * The three headers of one attempt. Every secret signs (during a rotation's overlap the old
 * and the new one), separated by spaces as the spec says, so a receiver holding either verifies.
 */
export function webhookHeaders(
  secrets: readonly Uint8Array[],
  msgId: string,
  timestampSec: number,
  body: string,
): Record<string, string> {
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(timestampSec),
    "webhook-signature": secrets.map((s) => signatureOf(s, msgId, timestampSec, body)).join(" "),
  };
}
