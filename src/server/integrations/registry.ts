import path from "node:path";
import type { CredentialPayload } from "@/server/credentials/kinds";
import type { ProviderChoices } from "@/server/integrations/providers";
import { createLocalBlobStore } from "./blob-store/local";
import type { BlobStore } from "./blob-store/port";
import { createVercelBlobStore } from "./blob-store/vercel";
import { createLibsqlDatabaseBranches } from "./database-branches/libsql";
import { createMysqlDatabaseBranches } from "./database-branches/mysql";
import type { DatabaseBranches } from "./database-branches/port";
import { createTiDBCloudDatabaseBranches } from "./database-branches/tidbcloud";
import { createLocalDeployer } from "./deployer/local";
import type { Deployer } from "./deployer/port";
import { createVercelDeployer } from "./deployer/vercel";
import { createGitHubGitHost } from "./git-host/github";
import { createLocalGitHost } from "./git-host/local";
import type { GitHost } from "./git-host/port";
import { createRepoImporter, type RepoImporter } from "./git-host/repo-importer";
import { ProviderError, type Vendor } from "./provider-error";
import { createLocalSandboxes } from "./sandboxes/local";
import type { Sandboxes } from "./sandboxes/port";
import { createVercelSandboxes } from "./sandboxes/vercel";

/** Platform-wide settings the adapters need (from the environment, read once at boot by the caller). */
export type PlatformProviderSettings = {
  dataDir: string;
  /** The platform's own checkout (holds .env files): hidden from local sandboxes like the data dir. */
  platformRoot: string;
  /** Host uid/gid of local sandbox processes when the platform is root (KILN_SANDBOX_UID). */
  sandboxUid?: number;
  /** Hosts local sandboxes may reach through their egress proxy (the npm registry, KILN_SANDBOX_ALLOWED_HOSTS). */
  sandboxAllowedHosts?: string[];
  /** Of those, the platform's own package registry, reached whatever address it resolves to. */
  sandboxRegistryHost?: string;
  githubApiUrl: string;
  vercelApiUrl: string;
  tidbCloudApiUrl: string;
  branchesMysqlUrl: string | undefined;
  blobToken: string | undefined;
  /**
   * The template's installed dependencies (its warm cache directory), which local deployments of a commit with the
   * template's lockfile hard-link instead of running `npm ci`. Absent: they always install.
   */
  warmDependencies?: () => Promise<string>;
  /** Directories local git repositories may be imported from (KILN_IMPORT_ROOTS); absent or empty: none. */
  importRoots?: string[];
};

/** The credentials in force for one operator (their own or the platform's), already decrypted. */
export type ProviderCredentials = {
  github?: CredentialPayload<"github">;
  vercel?: CredentialPayload<"vercel">;
  tidbcloud?: CredentialPayload<"tidbcloud">;
};

export type Providers = {
  git: GitHost;
  database: DatabaseBranches;
  sandboxes: Sandboxes;
  blob: BlobStore;
  deployer: Deployer;
  /** Fetches repositories to import (docs/import.md), with the operator's GitHub token when there is one. */
  importer: RepoImporter;
};

function missing(vendor: Vendor, what: string): ProviderError {
  return new ProviderError(
    vendor,
    "auth",
    `${what} Add it in Settings, or ask your Kiln admin to set it for everyone.`,
  );
}

/** Where each local adapter keeps its state under the data dir. */
export function localLayout(dataDir: string) {
  return {
    git: path.join(dataDir, "git"),
    databases: path.join(dataDir, "databases"),
    sandboxes: path.join(dataDir, "sandboxes"),
    blobs: path.join(dataDir, "blobs"),
    deployments: path.join(dataDir, "deployments"),
    /** Local deploy sources, staged on the data dir's filesystem (where the template cache is) so hard links work. */
    staging: path.join(dataDir, "staging"),
  };
}

export function gitHostFor(
  kind: ProviderChoices["git"],
  s: PlatformProviderSettings,
  c: ProviderCredentials,
): GitHost {
  if (kind === "local") return createLocalGitHost({ root: localLayout(s.dataDir).git });
  if (!c.github)
    throw missing("github", "This project keeps its code on GitHub, but no GitHub token is available.");
  return createGitHubGitHost({ token: c.github.token, apiUrl: s.githubApiUrl });
}

export function databaseBranchesFor(
  kind: ProviderChoices["database"],
  s: PlatformProviderSettings,
  c: ProviderCredentials,
): DatabaseBranches {
  if (kind === "libsql") return createLibsqlDatabaseBranches({ root: localLayout(s.dataDir).databases });
  if (kind === "mysql") {
    if (!s.branchesMysqlUrl) {
      throw new ProviderError(
        "mysql",
        "invalid",
        "MySQL branches need KILN_BRANCHES_MYSQL_URL set on the server.",
      );
    }
    return createMysqlDatabaseBranches({ adminUrl: s.branchesMysqlUrl });
  }
  const tidb = c.tidbcloud;
  if (!tidb)
    throw missing(
      "tidbcloud",
      "This project's databases are on TiDB Cloud, but no API key pair is available.",
    );
  if (!tidb.region) {
    throw new ProviderError(
      "tidbcloud",
      "invalid",
      "Set a TiDB Cloud region (e.g. aws-us-east-1) with the API key.",
    );
  }
  return createTiDBCloudDatabaseBranches({
    publicKey: tidb.publicKey,
    privateKey: tidb.privateKey,
    projectId: tidb.projectId,
    region: tidb.region,
    apiUrl: s.tidbCloudApiUrl,
  });
}

function vercelProject(
  c: ProviderCredentials,
  use: string,
): { token: string; teamId: string | undefined; projectId: string } {
  if (!c.vercel) throw missing("vercel", `${use} need a Vercel token, and none is available.`);
  if (!c.vercel.projectId) {
    throw new ProviderError(
      "vercel",
      "invalid",
      `${use} need a Vercel project id: add it with the Vercel token.`,
    );
  }
  return { token: c.vercel.token, teamId: c.vercel.teamId, projectId: c.vercel.projectId };
}

/**
 * Local sandboxes see the host read-only, minus the platform's own state and secrets: its data dir (control-plane
 * database, other projects' repos and branches, the secret key file) and its checkout (`.env` files).
 */
function localSandboxes(s: PlatformProviderSettings): Sandboxes {
  return createLocalSandboxes({
    root: localLayout(s.dataDir).sandboxes,
    hidePaths: [s.dataDir, s.platformRoot],
    ...(s.sandboxUid ? { sandboxUser: { uid: s.sandboxUid, gid: s.sandboxUid } } : {}),
    ...(s.sandboxAllowedHosts
      ? {
          network: {
            allowedHosts: s.sandboxAllowedHosts,
            trustedHosts: s.sandboxRegistryHost ? [s.sandboxRegistryHost] : [],
          },
        }
      : {}),
  });
}

export function sandboxesFor(
  kind: ProviderChoices["sandbox"],
  s: PlatformProviderSettings,
  c: ProviderCredentials,
): Sandboxes {
  if (kind === "local") return localSandboxes(s);
  const vercel = vercelProject(c, "Vercel sandboxes");
  if (!vercel.teamId)
    throw new ProviderError("vercel", "invalid", "Vercel sandboxes need a team id: add it with the token.");
  return createVercelSandboxes({ token: vercel.token, teamId: vercel.teamId, projectId: vercel.projectId });
}

export function blobStoreFor(kind: ProviderChoices["blob"], s: PlatformProviderSettings): BlobStore {
  if (kind === "local") return createLocalBlobStore({ root: localLayout(s.dataDir).blobs });
  if (!s.blobToken)
    throw new ProviderError(
      "vercel",
      "invalid",
      "Vercel Blob needs BLOB_READ_WRITE_TOKEN set on the server.",
    );
  return createVercelBlobStore({ token: s.blobToken });
}

export function deployerFor(
  kind: ProviderChoices["deploy"],
  s: PlatformProviderSettings,
  c: ProviderCredentials,
): Deployer {
  if (kind === "local") {
    const layout = localLayout(s.dataDir);
    return createLocalDeployer({
      root: layout.deployments,
      stagingRoot: layout.staging,
      warmDependencies: s.warmDependencies,
      sandboxes: localSandboxes(s),
    });
  }
  const vercel = vercelProject(c, "Vercel deployments");
  return createVercelDeployer({ ...vercel, apiUrl: s.vercelApiUrl });
}

/** The repository importer for an operator: their GitHub token (if any) and the platform's import roots. */
export function repoImporterFor(s: PlatformProviderSettings, c: ProviderCredentials): RepoImporter {
  return createRepoImporter({
    githubToken: c.github?.token,
    githubApiUrl: s.githubApiUrl,
    importRoots: s.importRoots ?? [],
  });
}

/** The five adapters of a project, built on first use so a project never needs credentials for ports it does not touch. */
export function providersFor(
  choices: ProviderChoices,
  s: PlatformProviderSettings,
  c: ProviderCredentials,
): Providers {
  const cache: Partial<Providers> = {};
  return {
    get git() {
      cache.git ??= gitHostFor(choices.git, s, c);
      return cache.git;
    },
    get database() {
      cache.database ??= databaseBranchesFor(choices.database, s, c);
      return cache.database;
    },
    get sandboxes() {
      cache.sandboxes ??= sandboxesFor(choices.sandbox, s, c);
      return cache.sandboxes;
    },
    get blob() {
      cache.blob ??= blobStoreFor(choices.blob, s);
      return cache.blob;
    },
    get deployer() {
      cache.deployer ??= deployerFor(choices.deploy, s, c);
      return cache.deployer;
    },
    get importer() {
      cache.importer ??= repoImporterFor(s, c);
      return cache.importer;
    },
  };
}
