import "server-only";
import { env } from "@/env";
import { getCredentialContext } from "@/server/context";
import { availableCredentialKinds } from "@/server/credentials/credential-store";
import type { Database } from "@/server/db/connection";
import { parseOrThrow } from "@/server/http/parse-input";
import { scheduleRevision } from "@/server/pipeline/schedule";
import {
  type CreatedProject,
  type CreateProjectInput,
  createProject,
  createProjectInputSchema,
} from "./create-project";
import { type ProviderAvailability, resolveProviderChoices } from "./providers";

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
