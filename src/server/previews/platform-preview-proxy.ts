import type { Env } from "@/server/config/env-schema";
import { loadSecretKey } from "@/server/crypto/secret-key";
import { resolveDatabaseTarget } from "@/server/db/connection";
import { findRevisionUpstreams } from "@/server/db/queries/revisions";
import { sharedDatabase } from "@/server/db/shared-database";
import { previewOrigins } from "./preview-origin";
import { createPreviewProxy, type PreviewProxy } from "./preview-proxy";

/**
 * The preview proxy of Kiln's HTTP front (scripts/lib/next-server.ts): the database says where a checkpoint's
 * preview or deployment listens. Built from the validated environment, not `@/env`: the front is not bundled.
 */
export function platformPreviewProxy(env: Env): PreviewProxy {
  return createPreviewProxy({
    origins: previewOrigins(
      env.KILN_PUBLIC_URL,
      env.KILN_PREVIEW_DOMAIN,
      loadSecretKey(env.KILN_SECRET_KEY, env.dataDir),
    ),
    resolveUpstream: async (target) => {
      const db = await sharedDatabase(resolveDatabaseTarget(env.DATABASE_URL, env.dataDir));
      const row = await findRevisionUpstreams(db, target.revisionId);
      return (target.kind === "preview" ? row?.preview_url : row?.deploy_url) ?? null;
    },
  });
}
