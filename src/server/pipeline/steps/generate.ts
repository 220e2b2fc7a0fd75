import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { modelOfRun } from "@/agents/models";
import { storedAgentKind } from "@/agents/registry";
import { appEnvForRun } from "@/server/app-env/app-env-for-run";
import type { SandboxWithOwner } from "@/server/db/queries/events";
import { getProjectById, latestAgentSessionPayload } from "@/server/db/queries/pipeline";
import type { Revision } from "@/server/db/schema";
import { nextRevisionSeq } from "@/server/events/append";
import { issueRunToken } from "@/server/gateway/run-token";
import { logError } from "@/server/http/log";
import { restoreAgentSession, saveAgentSession } from "../agent-sessions";
import type { LoadedRevision, PipelineDeps, RunnerEventDeps } from "../pipeline-deps";
import { emit, enter, failRun, type RunScope } from "../run-step";
import { runnerSandboxOf } from "../runner-sandbox";
import type { Provisioned } from "./provision";

// Generate: the coding agent runs inside the sandbox under the runner. The platform only starts it; how it ends
// comes back as the runner's events (advance-from-runner.ts), which also carry migrate, verify, commit and preview.

/** The revision whose agent session a follow-up resumes: its parent, or what a restore brought back. */
function sessionSourceOf(parent: Revision): string {
  return parent.kind === "restore" && parent.restored_from_revision_id
    ? parent.restored_from_revision_id
    : parent.id;
}

async function appEnvSpec(deps: PipelineDeps, projectId: string) {
  const { env, secretNames } = await appEnvForRun(deps.db, deps.key, projectId);
  return { appEnv: env, appSecretNames: secretNames };
}

async function startRunner(
  deps: PipelineDeps,
  scope: RunScope,
  loaded: LoadedRevision,
  run: { prompt: string; resumeSessionId: string | null },
  p: Provisioned,
) {
  const agent = storedAgentKind(loaded.revision.agent);
  const workdir = p.sandbox.workdir;
  const runToken = issueRunToken(
    { revisionId: scope.revisionId, sandboxId: p.sandboxRowId, ttlMs: deps.runTokenTtlMs },
    deps.key,
  );
  // A local sandbox has no route to the platform but its door, which passes the gateway and this webhook only.
  const platformUrl =
    (await p.sandbox.platformUrl?.({ publicUrl: deps.publicUrl, webhookId: p.sandboxRowId })) ??
    deps.publicUrl;
  const spec = {
    // A new run id per start: event ids are `<runId>-<seq>`, and a reused one would be dropped as duplicates.
    runId: `${scope.revisionId}-${randomBytes(3).toString("hex")}`,
    // The runner's events sort after the platform's own plan and provision events of this revision.
    seqBase: await nextRevisionSeq(deps.db, scope.revisionId),
    revisionId: scope.revisionId,
    agent,
    prompt: run.prompt,
    ...(run.resumeSessionId ? { resumeSessionId: run.resumeSessionId } : {}),
    model: modelOfRun(loaded.revision, loaded.project.model),
    gatewayBaseUrl: `${platformUrl}/gateway`,
    runToken,
    webhookUrl: `${platformUrl}/hooks/v1/sandboxes/${p.sandboxRowId}`,
    webhookSecret: p.webhookSecret,
    databaseUrl: p.connection.databaseUrl,
    // The app's processes get these; the runner keeps them out of the agent's environment.
    ...(await appEnvSpec(deps, loaded.project.id)),
    workdir,
    agentHome: path.posix.join(workdir, ".kiln", "home"),
    binPath: p.toolchain.binPath,
    previewPort: p.sandbox.listenPort(3000),
    previewHost: p.sandbox.listenHost,
    steps: { migrate: true, build: true, commit: true, preview: true },
  };
  const bundle = await deps.runnerBundle();
  await p.sandbox.writeFiles([
    { path: ".kiln/runner.mjs", content: await fs.readFile(bundle.file) },
    { path: ".kiln/run.json", content: JSON.stringify(spec) },
  ]);
  await p.sandbox.runDetached({
    cmd: "node",
    args: [".kiln/runner.mjs", path.posix.join(workdir, ".kiln/run.json")],
  });
}

/** Starts the agent in the provisioned sandbox, resuming the parent checkpoint's session for a follow-up. */
export async function startGeneration(
  deps: PipelineDeps,
  scope: RunScope,
  loaded: LoadedRevision,
  prompt: string,
  provisioned: Provisioned,
  resume = false,
): Promise<void> {
  const resumeSessionId = loaded.parent
    ? await restoreAgentSession(deps.providers.blob, provisioned.sandbox, sessionSourceOf(loaded.parent))
    : null;
  if (!(await enter(scope, "generating", resume))) return void (await provisioned.sandbox.stop());
  await emit(scope, { type: "step.started", payload: { step: "generate" } });
  try {
    await startRunner(deps, scope, loaded, { prompt, resumeSessionId }, provisioned);
  } catch (error) {
    await failRun(scope, "generate", error);
    await provisioned.sandbox.stop();
  }
}

const sessionPayload = z.object({ sessionId: z.string().min(1) });

/** Keeps the agent's session for follow-ups. Best effort: a follow-up without it starts a fresh session. */
export async function keepAgentSession(deps: RunnerEventDeps, scope: RunScope, row: SandboxWithOwner) {
  try {
    const providers = await deps.providersFor(await getProjectById(deps.db, scope.projectId));
    const sessionEvent = await latestAgentSessionPayload(deps.db, scope.revisionId);
    const parsed = sessionEvent ? sessionPayload.safeParse(JSON.parse(sessionEvent)) : undefined;
    await saveAgentSession(
      providers.blob,
      await runnerSandboxOf(providers, row),
      scope.revisionId,
      parsed?.success ? parsed.data.sessionId : null,
    );
  } catch (error) {
    logError(`saving the agent session of ${scope.revisionId}`, error);
    await emit(scope, {
      type: "progress",
      payload: { message: "The agent's session could not be saved; a follow-up will start a fresh one." },
    });
  }
}
