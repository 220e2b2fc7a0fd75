import "server-only";
import { assertWithinQuota } from "@/server/governance/assert-within-quota";
import { assertNotPaused } from "@/server/governance/pause-state";
import { parseOrThrow } from "@/server/http/parse-input";
import type { Platform } from "@/server/platform/platform";
import { resolveProviderChoices } from "../integrations/providers";
import { getModelDefaults, withModelDefaults } from "../projects/model-defaults";
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
  // The operator's defaults (Settings) fill in what the request does not name.
  const defaults = await getModelDefaults(platform.db, userId);
  const parsed = parseOrThrow(createProjectInputSchema, withModelDefaults(input, defaults));
  const providers = resolveProviderChoices(parsed.providers, await providerAvailability(platform, userId));
  assertNotPaused(await platform.pause.current());
  const created = await createProject(
    platform.db,
    userId,
    { ...parsed, providers },
    providers,
    Date.now(),
    (tx, now) => assertWithinQuota(tx, platform.quotas, userId, now),
  );
  scheduleRevision(platform, created.revision.id);
  return created;
}
