import "server-only";
import { availableCredentialKinds } from "@/server/credentials/credential-store";
import type { Platform } from "@/server/platform/platform";
import type { ProviderAvailability } from "../integrations/providers";

/** Which providers an operator can build on: their own credentials, and what the platform offers everyone. */
export async function providerAvailability(
  platform: Platform,
  userId: string,
): Promise<ProviderAvailability> {
  const kinds = await availableCredentialKinds(platform.db, platform.credentials, userId);
  return {
    github: kinds.has("github"),
    vercel: kinds.has("vercel"),
    tidbcloud: kinds.has("tidbcloud"),
    ...platform.platformProviders,
  };
}
