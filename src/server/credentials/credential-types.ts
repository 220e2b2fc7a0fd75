import type { CredentialKind } from "./kinds";

// Client-safe: what the settings page shows of a credential.

export type CredentialStatus = {
  kind: CredentialKind;
  label: string;
  /** Which credential is in force for this operator. */
  source: "operator" | "platform" | "none";
  hint: string | null;
  fields: Record<string, string>;
  verifyStatus: "verified" | "unverified" | null;
  verifyMessage: string | null;
  updatedAt: number | null;
  platformDefaultAvailable: boolean;
};
