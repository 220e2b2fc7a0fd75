import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import type { SandboxWithOwner } from "@/server/db/queries/events";
import {
  findRevisionById,
  getProjectById,
  getRevisionById,
  getTaskById,
  latestAgentSessionPayload,
  updateRevisionRow,
  updateSandboxRow,
} from "@/server/db/queries/pipeline";
import type { Project } from "@/server/db/schema";
import type { IngestResult } from "@/server/events/append";
import type { RevisionStatus, StepName, WireEvent } from "@/server/events/schema";
import { logError } from "@/server/http/log";
import type { RepoRef } from "@/server/integrations/git-host/port";
import { ProviderError } from "@/server/integrations/provider-error";
import type { Providers } from "@/server/integrations/registry";
import type { SandboxHandle } from "@/server/integrations/sandboxes/port";
import { repoRefOf } from "@/server/projects/project-resources";
import { APP_PORT } from "@/server/templates/dev-server";
import { type FinishDeps, finishRevision } from "./finish-revision";
import { waitForHealthyPreview } from "./preview";
import { advance, emit, failRun, type RunScope } from "./run-step";
import { saveAgentSession } from "./sessions";
import { stopRevisionSandbox } from "./stop-sandbox";

const sessionPayload = z.object({ sessionId: z.string().min(1) });

// The runner's events drive the revision once it runs: each step it starts moves the state machine; its commit
// bundle becomes the real commit (platform side, so no git credential ever enters the sandbox); its preview is
// health-checked; its end finishes or fails the revision. Called for every accepted batch, retries included, so
// every action here is idempotent.

export type RunnerEventDeps = Omit<FinishDeps, "providers"> & {
  providersFor(project: Project): Promise<Providers>;
  /** Bound on the preview's health check. Default 60 s. */
  previewTimeoutMs?: number;
};

const statusOfStep: Partial<Record<StepName, RevisionStatus>> = {
  generate: "generating",
  migrate: "migrating",
  verify: "verifying",
  commit: "committing",
  preview: "previewing",
};

function repoOf(project: Project): RepoRef {
  const repo = repoRefOf(project);
  if (!repo) {
    throw new ProviderError(
      "local-git",
      "internal",
      "The project has no repository yet: provisioning did not finish.",
    );
  }
  return repo;
}

async function sandboxOf(providers: Providers, row: SandboxWithOwner): Promise<SandboxHandle> {
  const handle = row.external_id ? await providers.sandboxes.get(row.external_id) : null;
  if (!handle)
    throw new ProviderError(
      "local-sandbox",
      "not_found",
      "The build's sandbox is gone (stopped or timed out).",
    );
  return handle;
}

async function commit(deps: RunnerEventDeps, scope: RunScope, row: SandboxWithOwner, bundleFile: string) {
  const revision = await getRevisionById(deps.db, scope.revisionId);
  if (revision.commit_sha) return;
  const [project, task] = await Promise.all([
    getProjectById(deps.db, scope.projectId),
    getTaskById(deps.db, scope.taskId),
  ]);
  const providers = await deps.providersFor(project);
  const repo = repoOf(project);
  const parent = revision.parent_revision_id
    ? await findRevisionById(deps.db, revision.parent_revision_id)
    : undefined;
  const parentSha = parent?.commit_sha ?? (await providers.git.resolveRef(repo, task.branch));
  if (!parentSha)
    throw new ProviderError("local-git", "not_found", `The branch ${task.branch} does not exist.`);
  const bundle = await (await sandboxOf(providers, row)).readFile(bundleFile);
  if (!bundle)
    throw new ProviderError(
      "local-sandbox",
      "not_found",
      "The sandbox reported a commit but its bundle is missing.",
    );
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bundle-"));
  try {
    const bundlePath = path.join(dir, "out.bundle");
    await fs.writeFile(bundlePath, bundle);
    const { sha } = await providers.git.commitFromBundle(repo, {
      branch: task.branch,
      parentSha,
      bundlePath,
      // The operator's words, not the agent's expanded instructions (which the runner knows the run by).
      message: revision.prompt.slice(0, 2_000),
      author: { name: "Kiln Agent", email: "agent@kiln.local" },
    });
    await updateRevisionRow(deps.db, scope.revisionId, { commit_sha: sha, updated_at: Date.now() });
    await emit(scope, {
      type: "progress",
      payload: { message: `Committed ${sha.slice(0, 7)} to ${task.branch}.` },
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function checkPreview(deps: RunnerEventDeps, scope: RunScope, row: SandboxWithOwner) {
  const project = await getProjectById(deps.db, scope.projectId);
  const url = (await sandboxOf(await deps.providersFor(project), row)).url(APP_PORT);
  await waitForHealthyPreview(url, deps.previewTimeoutMs ?? 60_000);
  const now = Date.now();
  await updateRevisionRow(deps.db, scope.revisionId, { preview_url: url, updated_at: now });
  await updateSandboxRow(deps.db, row.id, { preview_url: url, updated_at: now });
}

/** Keeps the agent's session for follow-ups. Best effort: a follow-up without it starts a fresh session. */
async function keepSession(deps: RunnerEventDeps, scope: RunScope, row: SandboxWithOwner) {
  try {
    const providers = await deps.providersFor(await getProjectById(deps.db, scope.projectId));
    const sessionEvent = await latestAgentSessionPayload(deps.db, scope.revisionId);
    const parsed = sessionEvent ? sessionPayload.safeParse(JSON.parse(sessionEvent)) : undefined;
    await saveAgentSession(
      providers.blob,
      await sandboxOf(providers, row),
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

async function handle(deps: RunnerEventDeps, scope: RunScope, row: SandboxWithOwner, event: WireEvent) {
  if (event.type === "runner.step" && event.payload.status === "started") {
    const status = statusOfStep[event.payload.step];
    if (status) await advance(scope, status);
  } else if (event.type === "runner.committed") {
    await advance(scope, "committing");
    await commit(deps, scope, row, event.payload.bundleFile);
  } else if (event.type === "runner.preview") {
    await advance(scope, "previewing");
    await checkPreview(deps, scope, row);
  } else if (event.type === "runner.finished") {
    await keepSession(deps, scope, row);
    const providers = await deps.providersFor(await getProjectById(deps.db, scope.projectId));
    await finishRevision({ ...deps, providers }, scope);
  } else if (event.type === "runner.failed") {
    await failRun(
      scope,
      event.payload.step,
      new ProviderError("local-sandbox", "internal", event.payload.reason),
    );
    // Nothing can resume a failed run's sandbox: free it (a follow-up starts from the last commit). Only this
    // run's own sandbox, and only if the run did fail: a late or forged report must never stop a checkpoint's
    // live preview (a finished revision's sandbox), nor another revision's.
    const revision = await getRevisionById(deps.db, scope.revisionId);
    if (revision.status === "failed" && revision.sandbox_id === row.id) {
      await stopRevisionSandbox(deps, scope.revisionId);
    }
  }
}

export async function advanceFromRunner(
  deps: RunnerEventDeps,
  ingest: IngestResult,
  row: SandboxWithOwner,
): Promise<void> {
  const scope: RunScope = {
    db: deps.db,
    projectId: row.project_id,
    taskId: ingest.taskId,
    revisionId: ingest.revisionId,
  };
  const events = [...ingest.events].sort((a, b) => a.seq - b.seq);
  for (const event of events) {
    try {
      await handle(deps, scope, row, event);
    } catch (error) {
      const step: StepName =
        event.type === "runner.committed"
          ? "commit"
          : event.type === "runner.preview"
            ? "preview"
            : "generate";
      await failRun(scope, step, error);
      return;
    }
  }
}
