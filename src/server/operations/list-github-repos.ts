import "server-only";
import type { GitHubRepoSummary } from "@/server/integrations/git-host/import-source";
import type { Platform } from "@/server/platform/platform";
import { AppError } from "../errors";
import { ProviderError } from "../integrations/provider-error";

export type GitHubRepoListing = {
  /** Whether a GitHub token (the operator's or the platform's) is available to list and import with. */
  connected: boolean;
  repos: GitHubRepoSummary[];
};

/** The repositories the operator's GitHub token can read, for the import picker. */
export async function listGitHubRepos(platform: Platform, userId: string): Promise<GitHubRepoListing> {
  const importer = await platform.importerFor(userId);
  if (!importer.hasGitHub) return { connected: false, repos: [] };
  try {
    return { connected: true, repos: await importer.listGitHubRepos() };
  } catch (error) {
    if (error instanceof ProviderError)
      throw new AppError("unavailable:import", `GitHub did not list your repositories: ${error.message}`, {
        cause: error,
      });
    throw error;
  }
}
