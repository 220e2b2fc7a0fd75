import { lookup } from "node:dns/promises";
import { lstat, mkdtemp, readdir, realpath, rm } from "node:fs/promises";
import { isIP } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import { isNonPublicAddress, type LookupAll } from "@/server/credentials/model-url-policy";
import { ProviderError, scrub } from "../provider-error";
import { createGitCli, GitCommandError } from "./git-cli";
import { createGitHubGitHost } from "./github";
import { createGitHubApi } from "./github-api";
import type { GitHubRepoSummary, ImportSource } from "./import-source";

/**
 * Fetching a repository to import, platform-side (docs/import.md). Never in a sandbox: the operator's GitHub token
 * goes to GitHub only, as an HTTP header scoped to GitHub's host (git's `http.<url>.extraHeader`, passed through
 * the environment, not the command line) or the REST API's Authorization header; never in a URL, never logged.
 *
 * What may be fetched:
 * - https URLs whose host resolves only to public addresses (no loopback, private or metadata address: Kiln must
 *   not become a door into its own network), with no user info, and redirects refused;
 * - local paths (absolute, or file:// URLs) only inside a directory the admin listed in KILN_IMPORT_ROOTS: an
 *   operator must not be able to read arbitrary paths of Kiln's host;
 * - the operator's GitHub repositories, through the GitHub API with their token.
 * Every fetch is shallow, bounded in time and in size.
 */

export class ImportRefusal extends Error {
  override readonly name = "ImportRefusal";
  /** The input field the refusal is about ("source.url", "source.fullName"), or undefined for the repository. */
  readonly field: string | undefined;
  /** True when the input itself is refused (what it names is never fetched); false: the repository is. */
  readonly isInput: boolean;

  constructor(message: string, options: { field?: string; isInput?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.field = options.field;
    this.isInput = options.isInput ?? false;
  }
}

export type RepoImporterOptions = {
  /** The operator's GitHub token (their own or the platform's), if any. */
  githubToken?: string;
  /** GitHub's API (default https://api.github.com); its web host is where the token may be sent for git URLs. */
  githubApiUrl?: string;
  /** Absolute directories local paths may be imported from (KILN_IMPORT_ROOTS); empty: no local paths. */
  importRoots: ReadonlyArray<string>;
  /** Bound on one fetch (default 2 minutes). */
  timeoutMs?: number;
  /** The largest working tree accepted (default 200 MB). */
  maxBytes?: number;
  lookup?: LookupAll;
  fetch?: typeof fetch;
  /** The git executable (default "git" on the system PATH). */
  git?: string;
};

export type FetchedRepo = {
  /** The commit whose files were written. */
  sha: string;
  /** What the project records: the URL, the resolved local path or "owner/name". */
  location: string;
  /** A name for the project when the operator gives none: the repository's. */
  name: string;
};

export type RepoImporter = {
  /**
   * Writes the files (no .git) of the source's default branch head, or of `sha`, into `destDir` (empty or
   * missing). Throws ImportRefusal for what Kiln will not or cannot fetch, with a message for the operator.
   */
  fetch(source: ImportSource, destDir: string, options?: { sha?: string }): Promise<FetchedRepo>;
  /** The repositories the operator's GitHub token can read, most recently updated first. */
  listGitHubRepos(): Promise<GitHubRepoSummary[]>;
  /** Whether GitHub repositories can be listed and imported (a GitHub token is available). */
  readonly hasGitHub: boolean;
};

const defaultApiUrl = "https://api.github.com";
const shaPattern = /^[0-9a-f]{40}$/;
const maxListedRepos = 300;

const repoListSchema = z.array(
  z.object({
    full_name: z.string(),
    private: z.boolean(),
    default_branch: z.string().optional(),
    description: z.string().nullable().optional(),
    html_url: z.string(),
    updated_at: z.string().nullable().optional(),
  }),
);
const repoInfoSchema = z.object({ full_name: z.string(), html_url: z.string(), default_branch: z.string() });

/** The host git URLs on GitHub use, for an API URL: api.github.com → github.com; GHES https://h/api/v3 → h. */
export function gitHubWebHost(apiUrl: string): string {
  const host = new URL(apiUrl).host;
  return host === "api.github.com" ? "github.com" : host;
}

const systemLookup: LookupAll = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

/** The repository's name from a URL or path: its last segment without ".git". */
function nameOf(location: string): string {
  const last = location.replace(/\/+$/, "").split("/").at(-1) ?? "";
  return last.replace(/\.git$/, "") || "imported-app";
}

async function treeBytes(dir: string, limit: number): Promise<number> {
  let total = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop() ?? dir;
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else total += (await lstat(full)).size;
      if (total > limit) return total;
    }
  }
  return total;
}

export function createRepoImporter(options: RepoImporterOptions): RepoImporter {
  const apiUrl = options.githubApiUrl || defaultApiUrl;
  const token = options.githubToken;
  const secrets = token ? [token, Buffer.from(`x-access-token:${token}`).toString("base64")] : [];
  const timeoutMs = options.timeoutMs ?? 120_000;
  const maxBytes = options.maxBytes ?? 200 * 1024 * 1024;
  const resolveHost = options.lookup ?? systemLookup;
  const git = createGitCli({ git: options.git, secrets, timeoutMs });

  type Target = {
    cloneUrl: string;
    protocol: "https" | "file";
    location: string;
    sendToken: boolean;
    /** `host:port:address,…` for git's `http.curloptResolve`: the addresses that were checked, and no others. */
    pinnedResolve?: string;
  };

  async function localTarget(raw: string): Promise<Target> {
    const field = "source.url";
    if (options.importRoots.length === 0) {
      throw new ImportRefusal(
        "Local paths cannot be imported on this Kiln: give an https:// URL (an admin can allow directories with KILN_IMPORT_ROOTS).",
        { field, isInput: true },
      );
    }
    let given: string;
    try {
      given = raw.startsWith("file:") ? fileURLToPath(raw) : raw;
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      throw new ImportRefusal("That file:// URL is not valid.", { field, isInput: true });
    }
    // Symlinks resolved first, so a link inside a root cannot point outside it.
    const resolved = await realpath(path.resolve(given)).catch((error: unknown) => {
      if (error instanceof Error && "code" in error) return undefined;
      throw error;
    });
    const roots = await Promise.all(
      options.importRoots.map((root) => realpath(root).catch(() => path.resolve(root))),
    );
    if (!resolved || !roots.some((root) => isInside(resolved, root))) {
      // The same answer for a missing path and a forbidden one: the refusal says nothing about the host's files.
      throw new ImportRefusal(
        `Local repositories can be imported only from ${roots.join(", ")} (KILN_IMPORT_ROOTS), and that path is not a repository there.`,
        { field, isInput: true },
      );
    }
    return { cloneUrl: pathToFileURL(resolved).href, protocol: "file", location: resolved, sendToken: false };
  }

  async function httpsTarget(raw: string): Promise<Target> {
    const field = "source.url";
    let url: URL;
    try {
      url = new URL(raw);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      throw new ImportRefusal(
        "Give the repository's https:// URL (for example https://github.com/acme/shop).",
        { field, isInput: true },
      );
    }
    if (url.protocol !== "https:") {
      throw new ImportRefusal(
        `Only https:// repository URLs can be imported, not ${url.protocol.replace(/:$/, "")}://.`,
        { field, isInput: true },
      );
    }
    if (url.username || url.password) {
      throw new ImportRefusal(
        "Leave the credential out of the URL: Kiln uses the GitHub token saved in Settings for GitHub repositories.",
        { field, isInput: true },
      );
    }
    url.hash = "";
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const githubHost = gitHubWebHost(apiUrl);
    let pinnedResolve: string | undefined;
    // The platform's configured GitHub is its own choice (GitHub Enterprise may sit on a private network).
    if (url.host !== githubHost) {
      let addresses: string[];
      try {
        addresses = isIP(host) ? [host] : await resolveHost(host);
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        throw new ImportRefusal(`The host ${host} could not be resolved.`, { field, isInput: true });
      }
      if (addresses.length === 0 || addresses.some(isNonPublicAddress)) {
        throw new ImportRefusal(
          `The host ${host} is a loopback, private or link-local address: Kiln imports only from public hosts.`,
          { field, isInput: true },
        );
      }
      // git resolves the host again when it connects: a name whose DNS answers a public address to the check and a
      // private one a moment later (rebinding) would reach Kiln's network. git connects to the checked addresses.
      if (!isIP(host)) {
        const listed = addresses.map((address) => (isIP(address) === 6 ? `[${address}]` : address));
        pinnedResolve = `${host}:${url.port || "443"}:${listed.join(",")}`;
      }
    }
    return {
      cloneUrl: url.href,
      protocol: "https",
      location: url.href,
      sendToken: Boolean(token) && url.host === githubHost,
      pinnedResolve,
    };
  }

  function targetOf(raw: string): Promise<Target> {
    if (raw.startsWith("/") || raw.startsWith("file:")) return localTarget(raw);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) || raw.startsWith("git@")) return httpsTarget(raw);
    return Promise.reject(
      new ImportRefusal("Give the repository's https:// URL (for example https://github.com/acme/shop).", {
        field: "source.url",
        isInput: true,
      }),
    );
  }

  function gitEnv(target: Target): Record<string, string> {
    const env: Record<string, string> = { GIT_ALLOW_PROTOCOL: target.protocol };
    if (target.sendToken && token) {
      const origin = `https://${gitHubWebHost(apiUrl)}/`;
      // Config through the environment: visible to no other user in the process list, and scoped to GitHub's
      // origin so no other host (nor a redirect, which is refused anyway) ever receives it.
      env.GIT_CONFIG_COUNT = "1";
      env.GIT_CONFIG_KEY_0 = `http.${origin}.extraHeader`;
      env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
    }
    return env;
  }

  function cloneFailure(error: GitCommandError, target: Target): ImportRefusal {
    if (error.timedOut)
      return new ImportRefusal(
        `Fetching ${target.location} took longer than ${Math.round(timeoutMs / 1000)} s; import a smaller repository.`,
        { field: "source.url" },
      );
    const said = scrub(error.stderr, secrets)
      .split("\n")
      .map((line) => line.replace(/^(fatal|error|remote): /, "").trim())
      .filter(Boolean)
      .at(-1);
    return new ImportRefusal(
      `${target.location} could not be fetched${said ? `: ${said}` : ""}. Check the URL, and that the repository is public or your GitHub token can read it.`,
      { field: "source.url" },
    );
  }

  async function fetchGit(raw: string, destDir: string, sha: string | undefined): Promise<FetchedRepo> {
    const target = await targetOf(raw);
    const env = gitEnv(target);
    const httpPolicy = [
      "-c",
      "http.followRedirects=false",
      ...(target.pinnedResolve ? ["-c", `http.curloptResolve=${target.pinnedResolve}`] : []),
    ];
    try {
      await git.run(
        [
          ...httpPolicy,
          "clone",
          "--depth",
          "1",
          "--single-branch",
          "--no-tags",
          "--quiet",
          "--",
          target.cloneUrl,
          destDir,
        ],
        { env, timeoutMs },
      );
      const gitDir = path.join(destDir, ".git");
      let head = (await git.run(["rev-parse", "HEAD"], { gitDir })).toString("utf8").trim();
      if (sha && head !== sha) {
        // The commit checked when the project was created, fetched by id (the branch may have moved since).
        await git.run([...httpPolicy, "fetch", "--depth", "1", "--quiet", "origin", sha], {
          gitDir,
          cwd: destDir,
          env,
          timeoutMs,
        });
        await git.run(["checkout", "--quiet", "--detach", sha], {
          gitDir,
          cwd: destDir,
          env: { GIT_WORK_TREE: destDir },
        });
        head = sha;
      }
      await rm(gitDir, { recursive: true, force: true });
      return { sha: head, location: target.location, name: nameOf(target.location) };
    } catch (error) {
      if (error instanceof GitCommandError) throw cloneFailure(error, target);
      throw error;
    }
  }

  async function fetchGitHub(
    fullName: string,
    destDir: string,
    sha: string | undefined,
  ): Promise<FetchedRepo> {
    if (!token) {
      throw new ImportRefusal(
        "Add a GitHub token in Settings to import your GitHub repositories (or give a public https:// URL).",
        { field: "source.fullName", isInput: true },
      );
    }
    const api = createGitHubApi({ token, apiUrl, fetch: options.fetch, timeoutMs: 20_000 });
    const [owner = "", repo = ""] = fullName.split("/");
    try {
      const info = await api.call("GET /repos/{owner}/{repo}", { owner, repo }, repoInfoSchema, {
        action: `reading repository ${fullName}`,
        idempotent: true,
        notFound: `GitHub has no repository ${fullName}, or your token cannot read it.`,
      });
      const host = createGitHubGitHost({
        token,
        apiUrl,
        fetch: options.fetch,
        transferTimeoutMs: timeoutMs,
        maxArchiveBytes: maxBytes,
        git: options.git,
      });
      const ref = {
        host: "github" as const,
        fullName: info.full_name,
        webUrl: info.html_url,
        defaultBranch: info.default_branch,
      };
      const commit = sha ?? (await host.resolveRef(ref, info.default_branch));
      if (!commit)
        throw new ImportRefusal(`${fullName} has no commits on ${info.default_branch}.`, {
          field: "source.fullName",
        });
      await host.exportTree(ref, commit, destDir);
      return { sha: commit, location: info.full_name, name: nameOf(info.full_name) };
    } catch (error) {
      if (error instanceof ProviderError && error.kind !== "unavailable" && error.kind !== "internal")
        throw new ImportRefusal(error.message, { field: "source.fullName", cause: error });
      throw error;
    }
  }

  async function fetchSource(
    source: ImportSource,
    destDir: string,
    fetchOptions: { sha?: string } = {},
  ): Promise<FetchedRepo> {
    if (fetchOptions.sha !== undefined && !shaPattern.test(fetchOptions.sha))
      throw new ImportRefusal(`${JSON.stringify(fetchOptions.sha)} is not a full commit sha.`);
    const fetched =
      source.kind === "git"
        ? await fetchGit(source.url, destDir, fetchOptions.sha)
        : await fetchGitHub(source.fullName, destDir, fetchOptions.sha);
    const size = await treeBytes(destDir, maxBytes);
    if (size > maxBytes) {
      throw new ImportRefusal(
        `The repository's files are larger than ${Math.round(maxBytes / 1024 / 1024)} MB; Kiln imports smaller apps.`,
      );
    }
    return fetched;
  }

  async function listGitHubRepos(): Promise<GitHubRepoSummary[]> {
    if (!token) return [];
    const api = createGitHubApi({ token, apiUrl, fetch: options.fetch, timeoutMs: 20_000 });
    const repos: GitHubRepoSummary[] = [];
    for (let page = 1; repos.length < maxListedRepos; page++) {
      const batch = await api.call(
        "GET /user/repos",
        { per_page: 100, page, sort: "updated", affiliation: "owner,collaborator,organization_member" },
        repoListSchema,
        { action: "listing your GitHub repositories", idempotent: true },
      );
      repos.push(
        ...batch.map((repo) => ({
          fullName: repo.full_name,
          private: repo.private,
          defaultBranch: repo.default_branch ?? "main",
          description: repo.description ?? null,
          url: repo.html_url,
          updatedAt: repo.updated_at ?? null,
        })),
      );
      if (batch.length < 100) break;
    }
    return repos.slice(0, maxListedRepos);
  }

  return { fetch: fetchSource, listGitHubRepos, hasGitHub: Boolean(token) };
}

/** A scratch directory for one fetch, removed after `work` whatever happens. */
export async function withImportScratch<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kiln-import-"));
  try {
    return await work(path.join(dir, "tree"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
