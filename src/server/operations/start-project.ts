import "server-only";
import { parseOrThrow } from "@/server/http/parse-input";
import type { Platform } from "@/server/platform/platform";
import { resolveProviderChoices } from "../integrations/providers";
import {
  type CreatedProject,
  type CreateProjectInput,
  createProject,
  createProjectInputSchema,
} from "./create-project";
import { providerAvailability } from "./provider-availability";
import { scheduleRevision } from "./schedule";

/** Creates a project on the providers the operator asked for, or the best ones available to them. */
export async function startProject(
  platform: Platform,
  userId: string,
  input: CreateProjectInput,
): Promise<CreatedProject> {
  const parsed = parseOrThrow(createProjectInputSchema, input);
  const providers = resolveProviderChoices(parsed.providers, await providerAvailability(platform, userId));
  const created = await createProject(platform.db, userId, { ...parsed, providers }, providers);
  scheduleRevision(platform, created.revision.id);
  return created;
}
