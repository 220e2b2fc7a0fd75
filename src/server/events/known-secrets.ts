import type { Env } from "@/server/config/env-schema";
import { type CredentialContext, resolveCredential } from "@/server/credentials/credential-store";
import { credentialKinds } from "@/server/credentials/kinds";
import type { Executor } from "@/server/db/connection";

// What the webhook's redactor must never let into a stored event: every secret value Kiln itself holds that a
// sandbox's output could conceivably echo.

/** The same test the credential store uses to decide which fields are never shown back. */
const SECRET_FIELD = /token|key|secret|password/i;

function secretFields(payload: Record<string, unknown>): string[] {
  return Object.entries(payload)
    .filter(([field, value]) => SECRET_FIELD.test(field) && typeof value === "string")
    .map(([, value]) => String(value));
}

function urlPassword(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? [password] : [];
  } catch (error) {
    // A URL the env schema accepted but URL() cannot parse has no password we could find either.
    if (error instanceof TypeError || error instanceof URIError) return [];
    throw error;
  }
}

/** The platform's own secrets from the environment (the credential defaults are covered by `knownSecretsFor`). */
export function platformSecretsFromEnv(env: Env): string[] {
  return [
    env.KILN_SECRET_KEY,
    env.KILN_ADMIN_PASSWORD,
    env.BLOB_READ_WRITE_TOKEN,
    ...urlPassword(env.DATABASE_URL),
    ...urlPassword(env.KILN_BRANCHES_MYSQL_URL),
  ].filter((value): value is string => typeof value === "string" && value.length > 0);
}

/**
 * An operator's credentials (every kind, decrypted), the platform's default credentials, and the secret key in
 * each spelling `KILN_SECRET_KEY` may have been given in.
 */
export async function knownSecretsFor(
  db: Executor,
  ctx: CredentialContext,
  userId: string,
): Promise<string[]> {
  const resolved = await Promise.all(credentialKinds.map((kind) => resolveCredential(db, ctx, userId, kind)));
  const operator = resolved.flatMap((credential) => (credential ? secretFields(credential.payload) : []));
  const platform = Object.values(ctx.platformDefaults).flatMap((payload) =>
    payload ? secretFields(payload) : [],
  );
  const key = [ctx.key.toString("base64"), ctx.key.toString("base64url"), ctx.key.toString("hex")];
  return [...new Set([...operator, ...platform, ...key])];
}
