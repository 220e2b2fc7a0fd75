import type { CredentialInput } from "./kinds";

/**
 * What a vendor said about a credential before it is saved. Policy (the checks live beside each vendor's adapter,
 * src/server/integrations/verify-credential.ts):
 * - "rejected" only when the vendor answered and said no (401/403, or 404 for a team/project id);
 * - everything else — network failure, timeout, 5xx, 429, a response we cannot read — is "unreachable",
 *   and the credential is saved without verifying;
 * - no secret ever reaches a result.
 */
export type VerifyResult =
  | { status: "verified"; detail: string }
  | { status: "rejected"; message: string }
  | { status: "unreachable"; message: string };

/** The vendor check the credential store runs before it saves; the platform wires the real one. */
export type VerifyCredential = (input: CredentialInput) => Promise<VerifyResult>;
