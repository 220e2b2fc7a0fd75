import { appEnvForRun } from "@/server/app-env/app-env-for-run";
import type { SandboxWithOwner } from "@/server/db/queries/events";
import { getProjectById, updateRevisionRow, updateSandboxRow } from "@/server/db/queries/pipeline";
import { ProviderError } from "@/server/integrations/provider-error";
import { unpackTarball } from "@/server/integrations/sandboxes/unpack-tarball";
import { APP_PORT, startBuiltServer, startDevServer } from "@/server/templates/dev-server";
import { restoredBuildKey } from "../build-output";
import type { PipelineDeps, RunnerEventDeps } from "../pipeline-deps";
import { type RunScope, runStep } from "../run-step";
import { runnerSandboxOf } from "../runner-sandbox";
import type { Provisioned } from "./provision";

// Preview: the app answers on its sandbox's URL, with its database branch. The runner starts the dev server with
// the run and reports it once the agent is done and migrations passed, before verify and commit (the checkpoint is
// previewed, not yet finished); a restore starts it here. Healthy means /api/health and the first page both answer.

/** A preview counts once `/api/health` says the app and its database are up and the first page answers. */
export async function waitForHealthyPreview(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const health = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(5_000) });
      await health.body?.cancel();
      const page = health.ok ? await fetch(url, { signal: AbortSignal.timeout(15_000) }) : undefined;
      await page?.body?.cancel();
      if (health.ok && page?.ok) return;
      last = `health ${health.status}${page ? `, page ${page.status}` : ""}`;
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      last = error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new ProviderError("local-sandbox", "timeout", `The preview did not become healthy (${last}).`);
}

/** The runner reported its preview up: health-check it through the sandbox's URL and record it. */
export async function checkRunnerPreview(
  deps: RunnerEventDeps,
  scope: RunScope,
  row: SandboxWithOwner,
): Promise<void> {
  const project = await getProjectById(deps.db, scope.projectId);
  const url = (await runnerSandboxOf(await deps.providersFor(project), row)).url(APP_PORT);
  await waitForHealthyPreview(url, deps.previewTimeoutMs ?? 60_000);
  const now = Date.now();
  await updateRevisionRow(deps.db, scope.revisionId, { preview_url: url, updated_at: now });
  await updateSandboxRow(deps.db, row.id, { preview_url: url, updated_at: now });
}

/**
 * A restore has no runner: the platform starts the app on the restored code and branch itself. Its target's
 * verified build, when stored, is served with `next start` (the same tree: no compile at all); else a dev server.
 */
export async function restorePreviewStep(
  deps: PipelineDeps,
  scope: RunScope,
  provisioned: Provisioned,
  resume = false,
): Promise<boolean> {
  const previewed = await runStep(
    scope,
    "previewing",
    "preview",
    async () => {
      const { env: appEnv } = await appEnvForRun(deps.db, deps.key, scope.projectId);
      const env = { ...appEnv, DATABASE_URL: provisioned.connection.databaseUrl };
      const buildKey = await restoredBuildKey(deps.db, scope.revisionId);
      const build = buildKey ? await deps.providers.blob.get(buildKey) : null;
      if (build) await unpackTarball(provisioned.sandbox, build.body, "the checkpoint's verified build");
      const server = build
        ? await startBuiltServer(provisioned.sandbox, { env })
        : await startDevServer(provisioned.sandbox, { env });
      await waitForHealthyPreview(server.url, 60_000);
      const now = Date.now();
      await updateRevisionRow(deps.db, scope.revisionId, { preview_url: server.url, updated_at: now });
      await updateSandboxRow(deps.db, provisioned.sandboxRowId, { preview_url: server.url, updated_at: now });
      return server;
    },
    resume,
  );
  return previewed !== undefined;
}
