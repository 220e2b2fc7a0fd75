import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import type { Executor } from "@/server/db/connection";
import type { Project } from "@/server/db/schema";
import { logError } from "@/server/http/log";
import type { Providers } from "@/server/integrations/registry";
import { asProcessEnv } from "@/server/process-env";
import { repoRefOf } from "@/server/projects/project-resources";
import { getCommittedCheckpoint, type ProvidersFor } from "./committed-checkpoint";
import { capPatches, parseGitDiff } from "./parse-git-diff";
import type { RevisionDiff } from "./revision-diff-types";

// The DIFF tab: what a checkpoint changed, as the files of its commit against the commit it was built on
// (`revision.base_sha`). Both trees come out through the GitHost port, so it works the same for local and GitHub
// repositories; git itself compares them. Commits never change, so the answer is computed once and kept in the
// project's blob store.

// Listed with their counts, never with their patch: generated text nobody reviews line by line.
const lockfiles = new Set([
  "package-lock.json",
  "npm-shrinkwrap.json",
  "pnpm-lock.yaml",
  "yarn.lock",
  "bun.lock",
]);
const limits = {
  maxFileBytes: 200 * 1024,
  maxTotalBytes: 2 * 1024 * 1024,
  omitPatch: (file: string) => lockfiles.has(path.posix.basename(file)),
};
// Lockfile churn alone can reach megabytes of diff text; beyond this the diff is refused rather than held in memory.
const maxGitOutputBytes = 64 * 1024 * 1024;
const gitTimeoutMs = 60_000;
const systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const cachedDiffSchema = z.object({
  baseSha: z.string().nullable(),
  headSha: z.string(),
  files: z.array(
    z.object({
      path: z.string(),
      oldPath: z.string().nullable(),
      status: z.enum(["added", "modified", "deleted", "renamed"]),
      additions: z.number().int().nonnegative(),
      deletions: z.number().int().nonnegative(),
      binary: z.boolean(),
      patch: z.string(),
    }),
  ),
  truncated: z.boolean(),
});

export function revisionDiffKey(revisionId: string): string {
  return `diffs/${revisionId}.json`;
}

/** The cached diff if it is readable and still about the same two commits; anything else is recomputed. */
function fromCache(body: Buffer, baseSha: string | null, headSha: string): RevisionDiff | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch (error) {
    // A torn or foreign blob is not an error for the operator: the diff is recomputed and the blob replaced.
    logError("revision diff cache", error);
    return undefined;
  }
  const parsed = cachedDiffSchema.safeParse(json);
  if (!parsed.success || parsed.data.baseSha !== baseSha || parsed.data.headSha !== headSha) return undefined;
  return parsed.data;
}

/**
 * `git diff --no-index` between the two exported trees, from their common parent so the paths git prints start
 * with "base/" and "head/". Exit 1 means "differences found". The environment is built from scratch: no user or
 * system git config (external diff drivers, color, prefixes) and none of the platform's variables reach git.
 */
function runGitDiff(workDir: string): Promise<string> {
  const args = [
    "-c",
    "core.quotePath=false",
    "diff",
    "--no-index",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--find-renames",
    "-U3",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--",
    "base",
    "head",
  ];
  const env = asProcessEnv({
    PATH: systemPath,
    HOME: workDir,
    XDG_CONFIG_HOME: workDir,
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CEILING_DIRECTORIES: path.dirname(workDir),
    GIT_TERMINAL_PROMPT: "0",
  });
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      {
        cwd: workDir,
        env,
        timeout: gitTimeoutMs,
        killSignal: "SIGKILL",
        maxBuffer: maxGitOutputBytes,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        if (!error || (error.code === 1 && !error.killed)) return resolve(stdout);
        const reason =
          error.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER"
            ? `its output is over ${maxGitOutputBytes / 1024 / 1024} MB`
            : error.killed
              ? `it did not finish in ${gitTimeoutMs / 1000} s`
              : `exit ${String(error.code)}: ${stderr.trim().slice(-500)}`;
        reject(new Error(`git diff of the checkpoint failed: ${reason}`, { cause: error }));
      },
    );
  });
}

async function computeDiff(
  providers: Providers,
  project: Project,
  baseSha: string | null,
  headSha: string,
): Promise<RevisionDiff> {
  const repo = repoRefOf(project);
  if (!repo) throw new Error(`Project ${project.id} has a committed checkpoint but no repository recorded.`);
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-diff-"));
  try {
    const baseDir = path.join(workDir, "base");
    const headDir = path.join(workDir, "head");
    await Promise.all([
      baseSha ? providers.git.exportTree(repo, baseSha, baseDir) : fs.mkdir(baseDir),
      providers.git.exportTree(repo, headSha, headDir),
    ]);
    const files = parseGitDiff(await runGitDiff(workDir), { oldRoot: "base", newRoot: "head" });
    return { baseSha, headSha, ...capPatches(files, limits) };
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

/**
 * What checkpoint `revisionId` changed, for its owner (another operator's reads as not_found:revision). A checkpoint
 * without a commit yet is conflict:revision_not_ready.
 */
export async function getRevisionDiff(
  db: Executor,
  userId: string,
  revisionId: string,
  providersFor: ProvidersFor,
): Promise<RevisionDiff> {
  const { project, providers, baseSha, headSha } = await getCommittedCheckpoint(
    db,
    userId,
    revisionId,
    providersFor,
  );
  const key = revisionDiffKey(revisionId);
  const cached = await providers.blob.get(key);
  const hit = cached && fromCache(cached.body, baseSha, headSha);
  if (hit) return hit;

  const diff = await computeDiff(providers, project, baseSha, headSha);
  try {
    await providers.blob.put(key, JSON.stringify(diff), { contentType: "application/json" });
  } catch (error) {
    // The cache only saves recomputing: the operator still gets the diff, and the next request tries again.
    logError("revision diff cache", error);
  }
  return diff;
}
