import { providerOfRun } from "@/agents/models";
import type { ProjectListRow } from "@/server/db/queries/projects";
import type { TaskListRow } from "@/server/db/queries/tasks";
import type { Project } from "@/server/db/schema";
import type { ProviderChoices } from "../integrations/providers";
import type { PublishedDto } from "../publishing/publication-types";
import { type CardStatus, deriveCardStatus } from "./card-status";
import { providerChoicesOf } from "./project-resources";

// What leaves the server about a project. Rows stay inside; these shapes are what props and JSON carry.

export type ProjectDto = {
  id: string;
  name: string;
  slug: string;
  agent: string;
  model: string | null;
  /** Who serves the agent's model: "openai", "anthropic" or "openai-compatible". */
  modelProvider: string;
  status: string;
  providers: ProviderChoices;
  repo: { fullName: string; url: string | null; defaultBranch: string | null } | null;
  database: { rootId: string; rootName: string | null } | null;
  deployUrl: string | null;
  /** Where an imported project came from ("Imported from …"); null: made from the template. */
  source: { kind: string; location: string; sha: string | null } | null;
  /** The project's run budget; null = the platform default (KILN_RUN_BUDGET_*), 0 = no limit. */
  budget: { tokens: number | null; usd: number | null };
  createdAt: number;
  updatedAt: number;
  lastActivityAt: number;
};

export type ProjectSummaryDto = ProjectDto & {
  /** The checkpoint served at the project's stable URL; null: unpublished (docs/pipeline.md "Publishing"). */
  published: PublishedDto | null;
  /** The main task's newest finished checkpoint with a running deployment: what Publish (or Update) would serve. */
  publishable: { revisionId: string; ordinal: number } | null;
  /** What the dashboard card shows: from the newest finished checkpoint plus any running one. */
  card: CardStatus;
  /** The task whose workspace the card opens (the project's first). */
  mainTaskId: string | null;
  taskCount: number;
  /** The newest checkpoint's screenshot (an authenticated image URL), if any was taken. */
  screenshotUrl: string | null;
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
};

export type TaskDto = {
  id: string;
  title: string;
  branch: string;
  /** The project's first task, which a promote restores onto (docs/pipeline.md "Tasks"). */
  isMain: boolean;
  status: string;
  revisionCount: number;
  latestPrompt: string | null;
  /** Why the latest checkpoint failed or was cancelled, in words an operator can act on. */
  latestError: string | null;
  createdAt: number;
  updatedAt: number;
};

export function toProjectDto(project: Project, latestRevisionStatus?: string | null): ProjectDto {
  return {
    id: project.id,
    name: project.name,
    slug: project.slug,
    agent: project.agent,
    model: project.model,
    modelProvider: providerOfRun({ agent: project.agent, modelProvider: project.model_provider }, null),
    status: latestRevisionStatus ?? project.status,
    providers: providerChoicesOf(project),
    repo: project.repo_full_name
      ? { fullName: project.repo_full_name, url: project.repo_url, defaultBranch: project.default_branch }
      : null,
    database: project.db_root_id ? { rootId: project.db_root_id, rootName: project.db_root_name } : null,
    deployUrl: project.deploy_url,
    source:
      project.source_kind && project.source_location
        ? { kind: project.source_kind, location: project.source_location, sha: project.source_sha }
        : null,
    budget: {
      tokens: project.budget_tokens === null ? null : Number(project.budget_tokens),
      usd: project.budget_usd_micros === null ? null : Number(project.budget_usd_micros) / 1_000_000,
    },
    createdAt: project.created_at,
    updatedAt: project.updated_at,
    lastActivityAt: project.last_activity_at,
  };
}

export function toProjectSummaryDto(row: ProjectListRow): ProjectSummaryDto {
  return {
    ...toProjectDto(row, row.latest_revision_status),
    card: deriveCardStatus({
      runningStatus: row.running_revision_status,
      lastEndedStatus: row.last_ended_revision_status,
      hasFinished: row.has_finished_revision,
    }),
    published:
      row.published_revision_id && row.published_url && row.published_ordinal !== null
        ? {
            url: row.published_url,
            revisionId: row.published_revision_id,
            ordinal: row.published_ordinal,
            publishedAt: Number(row.published_at ?? 0),
          }
        : null,
    publishable:
      row.publishable_revision_id && row.publishable_ordinal !== null
        ? { revisionId: row.publishable_revision_id, ordinal: row.publishable_ordinal }
        : null,
    mainTaskId: row.main_task_id,
    taskCount: row.task_count,
    screenshotUrl: row.latest_screenshot_revision_id
      ? `/api/v1/revisions/${row.latest_screenshot_revision_id}/screenshot`
      : null,
    usage: {
      inputTokens: row.input_tokens,
      outputTokens: row.output_tokens,
      costUsd: row.cost_usd_micros / 1_000_000,
    },
  };
}

export function toTaskDto(row: TaskListRow, isMain: boolean): TaskDto {
  return {
    id: row.id,
    title: row.title,
    branch: row.branch,
    isMain,
    status: row.latest_revision_status ?? row.status,
    revisionCount: row.revision_count,
    latestPrompt: row.latest_prompt,
    latestError: row.latest_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
