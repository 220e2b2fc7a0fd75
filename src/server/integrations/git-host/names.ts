import type { GitCli } from "./git-cli";

/** Rules for the names and revisions a GitHost accepts, shared by every adapter. */

const repoNamePattern = /^[a-z0-9][a-z0-9-]{0,99}$/;
const fullShaPattern = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
// Branch, tag or (abbreviated) sha. Leaves out revision syntax (`~`, `^`, `@{`, `:`) and option-like names, so a
// caller's ref can only name something, never select history or reach git as a flag.
const revisionPattern = /^[A-Za-z0-9_][A-Za-z0-9._/-]{0,254}$/;

export function isRepoName(name: string): boolean {
  return repoNamePattern.test(name);
}

export function isFullSha(sha: string): boolean {
  return fullShaPattern.test(sha);
}

export function isPlainRevision(ref: string): boolean {
  return (
    revisionPattern.test(ref) &&
    !ref.includes("..") &&
    !ref.includes("//") &&
    !ref.endsWith("/") &&
    !ref.endsWith(".") &&
    !ref.endsWith(".lock")
  );
}

/** git's own branch-name rules (`git check-ref-format --branch`) plus the plain-revision rules above. */
export async function isBranchName(git: GitCli, name: string): Promise<boolean> {
  if (!isPlainRevision(name) || name === "HEAD") return false;
  const { code, stdout } = await git.probe(["check-ref-format", "--branch", name]);
  return code === 0 && stdout.toString("utf8").trim() === name;
}

/** Single-line text that git can store as an identity (no angle brackets or line breaks). */
export function isIdentityPart(value: string): boolean {
  return value.trim().length > 0 && value.length <= 200 && !/[<>\n\r\0]/.test(value);
}

/** Why a commitFromBundle input is unacceptable, or null when it is fine. */
export async function commitInputProblem(
  git: GitCli,
  input: { branch: string; parentSha: string; message: string; author: { name: string; email: string } },
): Promise<string | null> {
  if (!(await isBranchName(git, input.branch)))
    return `${JSON.stringify(input.branch)} is not a valid branch name.`;
  if (!isFullSha(input.parentSha)) return `${JSON.stringify(input.parentSha)} is not a full commit sha.`;
  if (input.message.trim().length === 0) return "The commit message is empty.";
  if (!isIdentityPart(input.author.name) || !isIdentityPart(input.author.email))
    return "The commit author needs a one-line name and email without < or >.";
  return null;
}
