import type { Project } from "@/server/db/schema";
import type { DbRoot } from "@/server/integrations/database-branches/port";
import type { ImportSource } from "@/server/integrations/git-host/import-source";
import type { RepoRef } from "@/server/integrations/git-host/port";
import type { ProviderChoices } from "../integrations/providers";

// What a project row records about its providers and outside resources, read back in the shapes the ports take.
// Values were validated on the way in; a row edited by hand falls back to the local adapter.

export function providerChoicesOf(project: Project): ProviderChoices {
  return {
    git: project.git_provider === "github" ? "github" : "local",
    database:
      project.db_provider === "tidbcloud" || project.db_provider === "mysql" ? project.db_provider : "libsql",
    sandbox: project.sandbox_provider === "vercel" ? "vercel" : "local",
    blob: project.blob_provider === "vercel" ? "vercel" : "local",
    deploy: project.deploy_provider === "vercel" ? "vercel" : "local",
  };
}

/** The project's repository, or null before provisioning created it. */
export function repoRefOf(project: Project): RepoRef | null {
  if (!project.repo_full_name || !project.repo_url || !project.default_branch) return null;
  return {
    host: providerChoicesOf(project).git,
    fullName: project.repo_full_name,
    webUrl: project.repo_url,
    defaultBranch: project.default_branch,
  };
}

/** Where an imported project's code came from (migrations/0006), or null for a project made from the template. */
export function importSourceOf(project: Project): ImportSource | null {
  if (!project.source_location) return null;
  if (project.source_kind === "github") return { kind: "github", fullName: project.source_location };
  if (project.source_kind === "git") return { kind: "git", url: project.source_location };
  return null;
}

/** The project's database root, or null before provisioning created it. */
export function dbRootOf(project: Project): DbRoot | null {
  if (!project.db_root_id || !project.db_root_name) return null;
  return { kind: providerChoicesOf(project).database, id: project.db_root_id, name: project.db_root_name };
}
