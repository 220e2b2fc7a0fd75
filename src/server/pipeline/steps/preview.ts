import type { SandboxWithOwner } from "@/server/db/queries/events";
import { getProjectById, updateRevisionRow, updateSandboxRow } from "@/server/db/queries/pipeline";
import { ProviderError } from "@/server/integrations/provider-error";
import { APP_PORT, startDevServer } from "@/server/templates/dev-server";
import type { PipelineDeps, RunnerEventDeps } from "../pipeline-deps";
import { type RunScope, runStep } from "../run-step";
import { runnerSandboxOf } from "../runner-sandbox";
import type { Provisioned } from "./provision";

// Preview: the app answers on its sandbox's URL, with its database branch. The runner starts the dev server after
// the agent's commit; a restore starts it here. Healthy means /api/health and the first page both answer.

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
    await new Promise((resolve) => setTimeout(resolve, 500));
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

/** A restore has no runner: the platform starts the dev server on the restored code and branch itself. */
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
      const server = await startDevServer(provisioned.sandbox, {
        env: { DATABASE_URL: provisioned.connection.databaseUrl },
      });
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
