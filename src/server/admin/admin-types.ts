import type { OperatorRole } from "@/server/auth/roles";

// What the admin page and the admin API show: client-safe (no database imports), never a hash or a secret.

export type OperatorSummary = {
  id: string;
  email: string;
  name: string | null;
  role: OperatorRole;
  disabled: boolean;
  disabledAt: number | null;
  createdAt: number;
  /** The latest of a session's, a token's or a project's last activity; null if never seen. */
  lastActivityAt: number | null;
  projectCount: number;
};

/** A one-time link that sets a password: shown once to the admin who made it, only its hash is stored. */
export type OperatorLink = { path: string; url: string; expiresAt: number };
