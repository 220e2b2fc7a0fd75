import type { Database } from "@/server/db/connection";
import { getRevisionById, updateRevisionRow } from "@/server/db/queries/pipeline";
import { logError } from "@/server/http/log";
import type { Providers } from "@/server/integrations/registry";
import { saveRevisionScreenshot } from "./revision-screenshot";
import { advance, emit, type RunScope, runStep } from "./run-step";
import { captureScreenshot } from "./screenshot";
import { deployRevision } from "./steps/deploy";

// What follows a healthy preview, for every kind of checkpoint: the deploy, then finished; meanwhile a screenshot
// of the preview (kept for the workspace, the replay and the dashboard once the sandbox sleeps).

export type FinishSettings = {
  /** Deploy each finished checkpoint (KILN_AUTO_DEPLOY). */
  autoDeploy: boolean;
  /** Chromium for screenshots; null: no screenshots on this platform. */
  chromiumPath: string | null;
  deployTimeoutMs?: number;
};

export type FinishDeps = {
  db: Database;
  key: Buffer;
  providers: Providers;
  templateDir: string;
  templateCacheRoot: string;
  finish: FinishSettings;
};

/** Best effort: a checkpoint without a picture is still a good checkpoint. */
async function screenshot(deps: FinishDeps, scope: RunScope, previewUrl: string): Promise<void> {
  if (!deps.finish.chromiumPath) return;
  try {
    const png = await captureScreenshot(previewUrl, { chromiumPath: deps.finish.chromiumPath });
    await saveRevisionScreenshot({ db: deps.db, blob: deps.providers.blob }, scope.revisionId, png);
    await emit(scope, { type: "progress", payload: { message: "Took a screenshot of the preview." } });
  } catch (error) {
    logError(`screenshot of ${scope.revisionId}`, error);
    await emit(scope, {
      type: "progress",
      payload: { message: "The preview's screenshot could not be taken." },
    });
  }
}

/**
 * Deploy (when on), then finished; the screenshot is taken meanwhile and never holds the checkpoint up (it is best
 * effort, and a preview that answers is what "ready" means). A failed deploy fails the checkpoint with the
 * deployer's reason.
 */
export async function finishRevision(
  deps: FinishDeps,
  scope: RunScope,
  options: { resume?: boolean } = {},
): Promise<void> {
  const revision = await getRevisionById(deps.db, scope.revisionId);
  const picture =
    revision.preview_url && !revision.screenshot_key
      ? screenshot(deps, scope, revision.preview_url)
      : Promise.resolve();
  try {
    if (deps.finish.autoDeploy && !(await deploy(deps, scope, options.resume ?? false))) return;
    await advance(scope, "finished");
  } finally {
    await picture;
  }
}

/**
 * The deploy step; false when it failed (the checkpoint is failed then) or the revision moved on. Resuming (its
 * server died during the deploy), a revision already deploying deploys again.
 */
async function deploy(deps: FinishDeps, scope: RunScope, resume: boolean): Promise<boolean> {
  const deployed = await runStep(
    scope,
    "deploying",
    "deploy",
    async () => {
      const url = await deployRevision(
        {
          ...deps,
          deployTimeoutMs: deps.finish.deployTimeoutMs,
          onAlive: () =>
            updateRevisionRow(deps.db, scope.revisionId, { heartbeat_at: Date.now() }).then(() => undefined),
        },
        scope.revisionId,
      );
      await emit(scope, { type: "progress", payload: { message: `Deployed: ${url}` } });
      return url;
    },
    resume,
  );
  return deployed !== undefined;
}
