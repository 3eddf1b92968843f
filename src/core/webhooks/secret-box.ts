import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { AppError } from "../../shared/errors.js";

/**
 * Webhook signing secrets at rest: AES-256-GCM under a key from core's config, with the
 * endpoint id as associated data so a ciphertext cannot be moved to another endpoint.
 * Layout: version (1) ‖ nonce (12) ‖ ciphertext ‖ tag (16).
 */

const VERSION = 1;

export interface SecretBox {
  seal(endpointId: string, secret: Uint8Array): Buffer;
  open(endpointId: string, sealed: Uint8Array): Uint8Array;
}

/** A box for a base64 32-byte key; an empty key gives a box that refuses to seal or open. */
export function createSecretBox(keyBase64: string): SecretBox {
  if (keyBase64 === "") return unsetBox();
  const key = Buffer.from(keyBase64, "base64");
  if (key.length !== 32) {
    throw new AppError("config.invalid", "webhookSecretKey must be base64 of 32 bytes");
  }
  return {
    seal(endpointId, secret) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, nonce);
      cipher.setAAD(Buffer.from(endpointId));
      const body = Buffer.concat([cipher.update(secret), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]);
    },
    open(endpointId, sealed) {
      const buf = Buffer.from(sealed);
      if (buf.length < 29 || buf[0] !== VERSION) throw new Error("unknown sealed secret format");
      const decipher = createDecipheriv("aes-256-gcm", key, buf.subarray(1, 13));
      decipher.setAAD(Buffer.from(endpointId));
      decipher.setAuthTag(buf.subarray(buf.length - 16));
      return Buffer.concat([decipher.update(buf.subarray(13, buf.length - 16)), decipher.final()]);
    },
  };
}

function unsetBox(): SecretBox {
  const refuse = (): never => {
    throw new AppError(
      "webhook.secret_key_unset",
      "webhooks need a secret key in core's config (TRONPAY_WEBHOOK_SECRET_KEY)",
    );
  };
  return { seal: refuse, open: refuse };
}
