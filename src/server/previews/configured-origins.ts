import { env } from "@/env";
import { ensureSecretKeyFile, loadSecretKey } from "@/server/crypto/secret-key";
import { type PreviewOrigins, previewOrigins } from "./preview-origin";

let origins: PreviewOrigins | undefined;

/**
 * This server's preview origins: KILN_PUBLIC_URL's scheme and port on KILN_PREVIEW_DOMAIN, labels keyed by the
 * secret key. Read once: none of them change while the server runs.
 */
export function configuredPreviewOrigins(): PreviewOrigins {
  // `npm run dev`/`npm start` create the key before the server starts; a bare `next start` gets one here.
  if (!origins) ensureSecretKeyFile(env.KILN_SECRET_KEY, env.dataDir);
  origins ??= previewOrigins(
    env.KILN_PUBLIC_URL,
    env.KILN_PREVIEW_DOMAIN,
    loadSecretKey(env.KILN_SECRET_KEY, env.dataDir),
  );
  return origins;
}
