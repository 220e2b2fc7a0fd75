import { randomBytes } from "node:crypto";
import { decryptSecret, encryptSecret } from "@/server/crypto/encryption";

// A sandbox's webhook secret is stored encrypted on `sandbox.webhook_secret_ciphertext`. Provisioning (which
// creates it) and the webhook (which reads it) must bind the ciphertext to the same context, so both use these.

/** The AES-GCM associated data binding a webhook secret to its sandbox row. */
export function webhookSecretContext(sandboxId: string): string {
  return `webhook:${sandboxId}`;
}

/** 256 random bits, hex: safe in an env var, a JSON run spec and an HMAC key. */
export function newWebhookSecret(): string {
  return randomBytes(32).toString("hex");
}

export function encryptWebhookSecret(key: Buffer, sandboxId: string, secret: string): string {
  return encryptSecret(key, secret, webhookSecretContext(sandboxId));
}

export function decryptWebhookSecret(key: Buffer, sandboxId: string, ciphertext: string): string {
  return decryptSecret(key, ciphertext, webhookSecretContext(sandboxId));
}
