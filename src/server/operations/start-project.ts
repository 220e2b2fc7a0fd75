import "server-only";
import { parseOrThrow } from "@/server/http/parse-input";
import type { Platform } from "@/server/platform/platform";
import { checkImport } from "../imports/check-import";
import { resolveProviderChoices } from "../integrations/providers";
import { getModelDefaults, withModelDefaults } from "../projects/model-defaults";
import { admitAgentWork } from "./admit-agent-work";
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
  const guard = await admitAgentWork(platform, userId);
  // An import is fetched and checked before anything is created, so a repository that does not fit is refused here.
  const origin = parsed.source ? await checkImport(await platform.importerFor(userId), parsed.source) : null;
  const name = parsed.name ?? origin?.name;
  const created = await createProject(
    platform.db,
    userId,
    { ...parsed, name, providers },
    providers,
    Date.now(),
    {
      origin: origin && { kind: origin.kind, location: origin.location, sha: origin.sha },
      guard,
    },
  );
  scheduleRevision(platform, created.revision.id);
  return created;
}
