import { z } from "zod";
import { modelNameSchema, modelProviderSchema, providerRefusal } from "@/agents/models";
import { agentDefinition, agentKindSchema, defaultAgentKind } from "@/agents/registry";
import type { Database, Executor } from "@/server/db/connection";
import { isUniqueViolation } from "@/server/db/dialect";
import { insertProject, isProjectSlugTaken } from "@/server/db/queries/projects";
import { insertRevision } from "@/server/db/queries/revisions";
import { insertShareSession } from "@/server/db/queries/share-links";
import { insertTask } from "@/server/db/queries/tasks";
import type { Project } from "@/server/db/schema";
import { newId, newShareSlug, randomBase32 } from "@/server/ids";
import { queuedRevisionRow } from "@/server/revisions/queued-revision";
import { type ImportOrigin, importSourceSchema } from "../integrations/git-host/import-source";
import { type ProviderChoices, providerChoicesSchema } from "../integrations/providers";
import { type ProjectDto, toProjectDto } from "../projects/project-dto";

export const createProjectInputSchema = z
  .object({
    prompt: z
      .string({ error: "Describe the app you want" })
      .trim()
      .min(3, "Describe the app in a few words")
      .max(20_000, "Keep the prompt under 20,000 characters"),
    agent: agentKindSchema.default(defaultAgentKind),
    /** Who serves the agent's model; default: the agent's own vendor. */
    provider: modelProviderSchema.optional(),
    model: modelNameSchema.optional(),
    name: z.string().trim().min(1).max(120).optional(),
    providers: providerChoicesSchema.partial().optional(),
    /** Import a repository instead of starting from the template (docs/import.md); checked by startProject. */
    source: importSourceSchema.optional(),
  })
  .superRefine((input, ctx) => {
    const provider = input.provider ?? agentDefinition(input.agent).vendor;
    const refusal = providerRefusal(input.agent, provider);
    if (refusal) ctx.addIssue({ code: "custom", path: ["provider"], message: refusal });
    // An OpenAI-compatible server has no model Kiln could guess.
    if (provider === "openai-compatible" && !input.model) {
      ctx.addIssue({
        code: "custom",
        path: ["model"],
        message: "Name the model to use on the OpenAI-compatible server",
      });
    }
  });
export type CreateProjectInput = z.input<typeof createProjectInputSchema>;

export type CreatedProject = {
  project: ProjectDto;
  task: { id: string; title: string; branch: string };
  revision: { id: string; ordinal: number; status: string };
  session: { slug: string };
};

/** A name until the planner picks a title: the prompt's first words, trimmed at a word boundary. */
export function provisionalName(prompt: string): string {
  const oneLine = prompt.replace(/\s+/g, " ").trim();
  if (oneLine.length <= 60) return oneLine;
  const cut = oneLine.slice(0, 60);
  const lastSpace = cut.lastIndexOf(" ");
  return `${(lastSpace > 20 ? cut.slice(0, lastSpace) : cut).trim()}…`;
}

export function slugify(text: string): string {
  const slug = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/g, "");
  return slug || "app";
}

async function uniqueSlug(db: Database, userId: string, base: string): Promise<string> {
  if (!(await isProjectSlugTaken(db, userId, base))) return base;
  for (let n = 2; n <= 5; n++) {
    const candidate = `${base}-${n}`;
    if (!(await isProjectSlugTaken(db, userId, candidate))) return candidate;
  }
  return `${base}-${randomBase32(4)}`;
}

/** Checks run first in the transaction that records the new revision (the operator's quotas). */
export type CreationGuard = (tx: Executor, now: number) => Promise<void>;

/**
 * Records a new project with its first task, its first revision (queued, holding the prompt) and a share link.
 * The pipeline picks queued revisions up; nothing outside the database happens here.
 */
export async function createProject(
  db: Database,
  userId: string,
  input: CreateProjectInput,
  defaults: ProviderChoices,
  now = Date.now(),
  options: {
    /** An imported project's checked origin (operations/check-import.ts); none: the template. */
    origin?: ImportOrigin | null;
    /** Checks run in the transaction that records the project (quotas). */
    guard?: CreationGuard;
  } = {},
): Promise<CreatedProject> {
  const parsed = createProjectInputSchema.parse(input);
  const providers = { ...defaults, ...parsed.providers };
  const name = parsed.name ?? provisionalName(parsed.prompt);
  const baseSlug = slugify(name);
  // The free-slug check runs before the transaction, so a concurrent create can take the slug first: the unique
  // key then refuses ours and we pick again.
  for (let attempt = 1; ; attempt++) {
    const slug = await uniqueSlug(db, userId, baseSlug);
    try {
      return await insertProjectRows(db, userId, parsed, providers, name, slug, now, options);
    } catch (error) {
      if (attempt >= 3 || !isUniqueViolation(error)) throw error;
    }
  }
}

async function insertProjectRows(
  db: Database,
  userId: string,
  parsed: z.output<typeof createProjectInputSchema>,
  providers: ProviderChoices,
  name: string,
  slug: string,
  now: number,
  { origin = null, guard }: { origin?: ImportOrigin | null; guard?: CreationGuard },
): Promise<CreatedProject> {
  const ids = { project: newId("project"), task: newId("task"), revision: newId("revision") };
  const shareSlug = newShareSlug();
  const taskTitle = provisionalName(parsed.prompt);
  const branch = "main";

  const projectRow: Project = {
    id: ids.project,
    user_id: userId,
    name,
    slug,
    agent: parsed.agent,
    model: parsed.model ?? null,
    model_provider: parsed.provider ?? agentDefinition(parsed.agent).vendor,
    status: "queued",
    git_provider: providers.git,
    db_provider: providers.database,
    sandbox_provider: providers.sandbox,
    blob_provider: providers.blob,
    deploy_provider: providers.deploy,
    repo_full_name: null,
    repo_url: null,
    default_branch: null,
    db_root_id: null,
    db_root_name: null,
    deploy_url: null,
    budget_tokens: null,
    budget_usd_micros: null,
    branch_retention: null,
    source_kind: origin?.kind ?? null,
    source_location: origin?.location ?? null,
    source_sha: origin?.sha ?? null,
    published_revision_id: null,
    published_url: null,
    published_at: null,
    created_at: now,
    updated_at: now,
    last_activity_at: now,
  };

  await db.transaction().execute(async (tx) => {
    await guard?.(tx, now);
    await insertProject(tx, projectRow);
    await insertTask(tx, {
      id: ids.task,
      project_id: ids.project,
      title: taskTitle,
      branch,
      status: "queued",
      created_at: now,
      updated_at: now,
    });
    await insertRevision(
      tx,
      queuedRevisionRow(
        {
          id: ids.revision,
          project_id: ids.project,
          task_id: ids.task,
          ordinal: 1,
          kind: "prompt",
          prompt: parsed.prompt,
          agent: parsed.agent,
          model: parsed.model ?? null,
          model_provider: parsed.provider ?? agentDefinition(parsed.agent).vendor,
          parent_revision_id: null,
          restored_from_revision_id: null,
        },
        now,
      ),
    );
    await insertShareSession(tx, {
      id: newId("session"),
      slug: shareSlug,
      project_id: ids.project,
      task_id: ids.task,
      revoked_at: null,
      created_at: now,
      updated_at: now,
    });
  });

  const project = toProjectDto(projectRow);
  return {
    project,
    task: { id: ids.task, title: taskTitle, branch },
    revision: { id: ids.revision, ordinal: 1, status: "queued" },
    session: { slug: shareSlug },
  };
}
