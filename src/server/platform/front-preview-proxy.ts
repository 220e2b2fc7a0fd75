import type http from "node:http";
import type { Env } from "@/server/config/env-schema";
import { findPublishedRevisionId } from "@/server/db/queries/pipeline";
import { findPublishedUpstream, findRevisionUpstreams } from "@/server/db/queries/revisions";
import { isPreviewCaller } from "../previews/preview-caller";
import { previewOriginsFromEnv } from "../previews/preview-origins-from-env";
import { createPreviewProxy, type PreviewProxy } from "../previews/preview-proxy";
import { platformFor } from "./platform";

/**
 * The preview proxy of Kiln's HTTP front (scripts/lib/next-server.ts): the database says where a checkpoint's
 * preview or deployment listens, and which checkpoint's deployment a project's stable URL serves. Built from the validated environment, not `@/env`: the front is not bundled. The
 * origins come from the same builder as the platform's (a pure function of the environment), so every link a page
 * shows is one this front serves.
 */
export function frontPreviewProxy(env: Env): PreviewProxy {
  return createPreviewProxy({
    origins: previewOriginsFromEnv(env),
    resolveUpstream: async (target) => {
      const { db } = await platformFor(env);
      if (target.kind === "app") return findPublishedUpstream(db, target.projectId);
      const row = await findRevisionUpstreams(db, target.revisionId);
      return (target.kind === "preview" ? row?.preview_url : row?.deploy_url) ?? null;
    },
    isPublished: async (projectId) =>
      (await findPublishedRevisionId((await platformFor(env)).db, projectId)) !== null,
  });
}

/** The front's check that a request for Kiln itself does not come from a preview's page (see isPreviewCaller). */
export function frontPreviewCallers(env: Env): (req: http.IncomingMessage) => boolean {
  const origins = previewOriginsFromEnv(env);
  return (req) => isPreviewCaller(origins, req.headers.origin);
}
