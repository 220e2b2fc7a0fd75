import "server-only";
import { env } from "@/env";
import type { LoginPolicy } from "@/server/auth/login";
import type { CredentialContext } from "@/server/credentials/credential-store";
import { platformDefaultsFromEnv, vendorEndpointsFromEnv } from "@/server/credentials/platform-defaults";
import { loadSecretKey } from "@/server/crypto/secret-key";
import { getDb } from "@/server/db";

export { getDb };

export const loginPolicy: LoginPolicy = {
  maxAttemptsPerAccount: env.KILN_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT,
  maxAttemptsPerIp: env.KILN_LOGIN_MAX_ATTEMPTS_PER_IP,
  maxAttemptsPerAccountTotal: env.KILN_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT_TOTAL,
  windowMs: env.KILN_LOGIN_WINDOW_MINUTES * 60_000,
  sessionTtlMs: env.KILN_SESSION_TTL_HOURS * 3_600_000,
};

let credentialContext: CredentialContext | undefined;

/** Loaded on first use (not at import) so pages that never touch credentials start without the key. */
export function getCredentialContext(): CredentialContext {
  credentialContext ??= {
    key: loadSecretKey(env.KILN_SECRET_KEY, env.dataDir),
    endpoints: vendorEndpointsFromEnv(env),
    platformDefaults: platformDefaultsFromEnv(env),
  };
  return credentialContext;
}

export const SESSION_COOKIE = "kiln_session";
export const secureCookies = env.KILN_PUBLIC_URL.startsWith("https://");
