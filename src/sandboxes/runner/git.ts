import fs from "node:fs/promises";
import path from "node:path";
import { capture, describeExit } from "./process";
import { kilnDirName } from "./sessions";

/**
 * The sandbox's git history, handed back as a bundle (no git credential ever enters the sandbox). The first
 * commit ("base") is the tree the platform exported (the revision's parent commit), made before the agent runs;
 * the agent's work is committed on top with the user's prompt as message. The platform rebuilds the real commit
 * from `treeSha` on the real parent. `.kiln/` (run spec, runner, session files, the bundle) is excluded via
 * `.git/info/exclude`, so it never reaches the app's history.
 */

export class GitError extends Error {
  override readonly name = "GitError";
}

export type GitContext = { workdir: string; env: Record<string, string>; timeoutMs?: number };

const agentIdentity = { name: "Kiln Agent", email: "agent@kiln.invalid" };
const baseIdentity = { name: "Kiln", email: "kiln@kiln.invalid" };

// Hooks off: a hook the agent wrote must not run (or veto) the runner's own commits.
const safeConfig = [
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "commit.gpgsign=false",
  "-c",
  "core.autocrlf=false",
  "-c",
  "init.defaultBranch=main",
];

async function git(
  context: GitContext,
  args: string[],
  identity = agentIdentity,
): Promise<{ ok: boolean; stdout: string; why: string }> {
  const env = {
    ...context.env,
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
  };
  const result = await capture("git", [...safeConfig, ...args], {
    cwd: context.workdir,
    env,
    timeoutMs: context.timeoutMs ?? 5 * 60_000,
  });
  const ok = result.code === 0 && !result.timedOut;
  const why = `git ${args[0]} failed (${describeExit(result)}): ${result.stderr.trim().slice(-1_000)}`;
  return { ok, stdout: result.stdout.trim(), why };
}

async function mustGit(context: GitContext, args: string[], identity = agentIdentity): Promise<string> {
  const result = await git(context, args, identity);
  if (!result.ok) throw new GitError(result.why);
  return result.stdout;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return false;
    throw error;
  }
}

async function excludeKilnDir(workdir: string): Promise<void> {
  const exclude = path.join(workdir, ".git", "info", "exclude");
  await fs.mkdir(path.dirname(exclude), { recursive: true });
  const current = (await exists(exclude)) ? await fs.readFile(exclude, "utf8") : "";
  const line = `/${kilnDirName}/`;
  if (current.split("\n").includes(line)) return;
  await fs.writeFile(exclude, `${current}${current && !current.endsWith("\n") ? "\n" : ""}${line}\n`);
}

/**
 * Makes sure the repository exists and has a first commit of the tree as exported; a repository that already has
 * history is left as it is. Run before the agent.
 */
export async function commitBase(context: GitContext): Promise<void> {
  if (!(await exists(path.join(context.workdir, ".git"))))
    await mustGit(context, ["init", "-q", "-b", "main"]);
  await excludeKilnDir(context.workdir);
  if ((await git(context, ["rev-parse", "-q", "--verify", "HEAD"])).ok) return;
  await mustGit(context, ["add", "-A"], baseIdentity);
  await mustGit(context, ["commit", "-q", "--allow-empty", "--no-verify", "-m", "Base"], baseIdentity);
}

export type Committed = { bundleFile: string; treeSha: string; commitSha: string };

/**
 * Commits everything the agent changed (an empty commit when it changed nothing: every prompt gets its commit) and
 * writes the whole history as a bundle. The message goes through a file: a prompt is not an argument.
 */
export async function commitWork(context: GitContext, message: string): Promise<Committed> {
  await excludeKilnDir(context.workdir);
  const kilnDir = path.join(context.workdir, kilnDirName);
  await fs.mkdir(kilnDir, { recursive: true });
  const messageFile = path.join(kilnDir, "commit-message.txt");
  await fs.writeFile(messageFile, message.endsWith("\n") ? message : `${message}\n`);
  await mustGit(context, ["add", "-A"]);
  await mustGit(context, [
    "commit",
    "-q",
    "--allow-empty",
    "--no-verify",
    "--cleanup=verbatim",
    "-F",
    messageFile,
  ]);
  const treeSha = await mustGit(context, ["rev-parse", "HEAD^{tree}"]);
  const commitSha = await mustGit(context, ["rev-parse", "HEAD"]);
  const bundleFile = path.posix.join(kilnDirName, "out.bundle");
  await fs.rm(path.join(context.workdir, bundleFile), { force: true });
  await mustGit(context, ["bundle", "create", "-q", bundleFile, "--all"]);
  return { bundleFile, treeSha, commitSha };
}
