import type { Env } from "@/server/config/env-schema";
import { loadSecretKey } from "@/server/crypto/secret-key";
import { type PreviewOrigins, previewOrigins } from "./preview-origin";

/**
 * This server's preview origins: KILN_PUBLIC_URL's scheme and port on KILN_PREVIEW_DOMAIN, labels keyed by the
 * secret key. The platform (links in pages, platform/wire-platform.ts) and the HTTP front's preview proxy
 * (platform/front-preview-proxy.ts) both build them here, so every link a page shows is one the front serves.
 */
export function previewOriginsFromEnv(env: Env): PreviewOrigins {
  return previewOrigins(
    env.KILN_PUBLIC_URL,
    env.KILN_PREVIEW_DOMAIN,
    loadSecretKey(env.KILN_SECRET_KEY, env.dataDir),
  );
}
