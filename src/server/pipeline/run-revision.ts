import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Database } from "@/server/db/connection";
import {
  findRevisionById,
  getProjectById,
  getTaskById,
  updateProjectRow,
  updateRevisionRow,
  updateSandboxRow,
  updateTaskRow,
} from "@/server/db/queries/pipeline";
import type { Project, Revision, Task } from "@/server/db/schema";
import { nextRevisionSeq } from "@/server/events/append";
import { issueRunToken } from "@/server/gateway/run-token";
import type { Plan } from "@/server/planner/plan-schema";
import { startDevServer } from "@/server/templates/dev-server";
import { isAgentKind } from "@/server/toolchains/versions";
import { type FinishSettings, finishRevision } from "./finish-revision";
import { modelOfRun } from "./models";
import { waitForHealthyPreview } from "./preview";
import { advance, emit, failRun, type RunScope, runStep } from "./run-step";
import { restoreAgentSession } from "./sessions";
import { type ProvisionContext, type Provisioned, provisionRevision } from "./steps/provision";

// The platform side of a revision: plan, provision, and start the runner inside the sandbox. From then on the
// runner's webhook events drive the revision (advance-from-runner.ts).

export type PipelineDeps = ProvisionContext & {
  finish: FinishSettings;
  /** Where sandboxes reach the platform (the gateway and the webhook live under it). */
  publicUrl: string;
  /** Plans with the vendor of the project's agent, using the operator's key (or the platform's). */
  plan(input: { userId: string; agent: "codex" | "claude-code"; prompt: string }): Promise<Plan>;
  runnerBundle(): Promise<{ file: string }>;
  runTokenTtlMs: number;
};

type Loaded = { project: Project; task: Task; revision: Revision; parent: Revision | undefined };

async function load(db: Database, revisionId: string): Promise<Loaded | undefined> {
  const revision = await findRevisionById(db, revisionId);
  if (!revision) return undefined;
  const [project, task, parent] = await Promise.all([
    getProjectById(db, revision.project_id),
    getTaskById(db, revision.task_id),
    revision.parent_revision_id
      ? findRevisionById(db, revision.parent_revision_id)
      : Promise.resolve(undefined),
  ]);
  return { project, task, revision, parent };
}

async function planStep(deps: PipelineDeps, scope: RunScope, loaded: Loaded): Promise<Plan | undefined> {
  const agent = isAgentKind(loaded.revision.agent) ? loaded.revision.agent : "codex";
  return runStep(scope, "planning", "plan", async () => {
    const plan = await deps.plan({ userId: loaded.project.user_id, agent, prompt: loaded.revision.prompt });
    const now = Date.now();
    await updateRevisionRow(deps.db, scope.revisionId, { plan: JSON.stringify(plan), updated_at: now });
    if (loaded.revision.ordinal === 1) {
      await updateProjectRow(deps.db, scope.projectId, { name: plan.title, updated_at: now });
      await updateTaskRow(deps.db, scope.taskId, { title: plan.title, updated_at: now });
    }
    await emit(scope, {
      type: "plan",
      payload: { title: plan.title, slug: plan.slug, steps: plan.steps, prompt: plan.agentPrompt },
    });
    return plan;
  });
}

async function startRunner(
  deps: PipelineDeps,
  scope: RunScope,
  loaded: Loaded,
  run: { prompt: string; resumeSessionId: string | null },
  p: Provisioned,
) {
  const agent = isAgentKind(loaded.revision.agent) ? loaded.revision.agent : "codex";
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
    workdir,
    agentHome: path.posix.join(workdir, ".kiln", "home"),
    binPath: p.toolchain.binPath,
    previewPort: p.sandbox.listenPort(3000),
    previewHost: p.sandbox.kind === "local" ? "127.0.0.1" : "0.0.0.0",
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

/** The revision whose agent session a follow-up resumes: its parent, or what a restore brought back. */
function sessionSourceOf(parent: Revision): string {
  return parent.kind === "restore" && parent.restored_from_revision_id
    ? parent.restored_from_revision_id
    : parent.id;
}

async function provisionStep(
  deps: PipelineDeps,
  scope: RunScope,
  loaded: Loaded,
): Promise<Provisioned | undefined> {
  const project = (await load(deps.db, scope.revisionId))?.project ?? loaded.project;
  return runStep(scope, "provisioning", "provision", () =>
    provisionRevision(
      { ...deps, onProgress: (message) => void emit(scope, { type: "progress", payload: { message } }) },
      { ...loaded, project },
    ),
  );
}

/** Restore: no agent. The code of the restored checkpoint becomes a new commit on top, then it is previewed. */
async function runRestore(deps: PipelineDeps, scope: RunScope, loaded: Loaded): Promise<void> {
  const target = loaded.parent;
  const provisioned = await provisionStep(deps, scope, loaded);
  if (!provisioned || !target?.commit_sha) return;
  const committed = await runStep(scope, "committing", "commit", async () => {
    const head = await deps.providers.git.resolveRef(provisioned.repo, loaded.task.branch);
    const sha =
      head === target.commit_sha || !head
        ? target.commit_sha
        : (
            await deps.providers.git.commitTree(provisioned.repo, {
              branch: loaded.task.branch,
              parentSha: head,
              treeOfSha: target.commit_sha ?? head,
              message: `Restore checkpoint ${target.ordinal}`,
              author: { name: "Kiln", email: "kiln@kiln.local" },
            })
          ).sha;
    // The restore's diff is against the head it was committed on top of, not the checkpoint it brings back.
    await updateRevisionRow(deps.db, scope.revisionId, {
      commit_sha: sha,
      base_sha: head ?? provisioned.baseSha,
      updated_at: Date.now(),
    });
    return sha;
  });
  if (!committed) return void (await provisioned.sandbox.stop());
  const previewed = await runStep(scope, "previewing", "preview", async () => {
    const server = await startDevServer(provisioned.sandbox, {
      env: { DATABASE_URL: provisioned.connection.databaseUrl },
    });
    await waitForHealthyPreview(server.url, 60_000);
    const now = Date.now();
    await updateRevisionRow(deps.db, scope.revisionId, { preview_url: server.url, updated_at: now });
    await updateSandboxRow(deps.db, provisioned.sandboxRowId, { preview_url: server.url, updated_at: now });
    return server;
  });
  if (!previewed) return void (await provisioned.sandbox.stop());
  await finishRevision(deps, scope);
}

/**
 * Runs a queued revision's platform steps. Safe to call twice: only the caller that moves it out of `queued` runs
 * it. Never throws for a step failure: the revision records it. A first prompt is planned; a follow-up goes to the
 * agent as typed, resuming its session; a restore needs no agent at all.
 */
export async function runRevision(deps: PipelineDeps, revisionId: string): Promise<void> {
  const loaded = await load(deps.db, revisionId);
  if (loaded?.revision.status !== "queued") return;
  const scope: RunScope = { db: deps.db, projectId: loaded.project.id, taskId: loaded.task.id, revisionId };
  if (loaded.revision.kind === "restore") return runRestore(deps, scope, loaded);

  let prompt = loaded.revision.prompt;
  if (!loaded.parent) {
    const plan = await planStep(deps, scope, loaded);
    if (!plan) return;
    prompt = plan.agentPrompt;
  }
  const provisioned = await provisionStep(deps, scope, loaded);
  if (!provisioned) return;
  const resumeSessionId = loaded.parent
    ? await restoreAgentSession(deps.providers.blob, provisioned.sandbox, sessionSourceOf(loaded.parent))
    : null;
  // Generation ends with the runner's own events, not here: only its start is the platform's.
  if (!(await advance(scope, "generating"))) return void (await provisioned.sandbox.stop());
  await emit(scope, { type: "step.started", payload: { step: "generate" } });
  try {
    await startRunner(deps, scope, loaded, { prompt, resumeSessionId }, provisioned);
  } catch (error) {
    await failRun(scope, "generate", error);
    await provisioned.sandbox.stop();
  }
}
