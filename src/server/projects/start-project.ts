import "server-only";
import { env } from "@/env";
import { getCredentialContext } from "@/server/context";
import { availableCredentialKinds } from "@/server/credentials/credential-store";
import type { Database } from "@/server/db/connection";
import { AppError } from "@/server/errors";
import { parseOrThrow } from "@/server/http/parse-input";
import { scheduleProjectTeardown, scheduleRevision } from "@/server/pipeline/schedule";
import {
  type CreatedProject,
  type CreateProjectInput,
  createProject,
  createProjectInputSchema,
} from "./create-project";
import { deleteProject } from "./project-queries";
import { type ProviderAvailability, resolveProviderChoices } from "./providers";
import { findProjectLeftovers } from "./teardown-project";

export async function providerAvailability(db: Database, userId: string): Promise<ProviderAvailability> {
  const kinds = await availableCredentialKinds(db, getCredentialContext(), userId);
  return {
    github: kinds.has("github"),
    vercel: kinds.has("vercel"),
    tidbcloud: kinds.has("tidbcloud"),
    mysqlBranches: env.KILN_BRANCHES_MYSQL_URL !== undefined,
    vercelBlob: env.BLOB_READ_WRITE_TOKEN !== undefined,
  };
}

/** Creates a project on the providers the operator asked for, or the best ones available to them. */
export async function startProject(
  db: Database,
  userId: string,
  input: CreateProjectInput,
): Promise<CreatedProject> {
  const parsed = parseOrThrow(createProjectInputSchema, input);
  const providers = resolveProviderChoices(parsed.providers, await providerAvailability(db, userId));
  const created = await createProject(db, userId, { ...parsed, providers }, providers);
  scheduleRevision(created.revision.id);
  return created;
}

/**
 * Deletes the operator's project: its rows now (the answer can say it is gone), then, after the response, what it
 * holds outside the database (sandboxes, deployments, database branches, a local repository, blobs).
 */
export async function startProjectDeletion(db: Database, userId: string, projectId: string): Promise<void> {
  const leftovers = await findProjectLeftovers(db, userId, projectId);
  if (!leftovers) throw new AppError("not_found:project");
  await deleteProject(db, userId, projectId);
  scheduleProjectTeardown(leftovers);
}
