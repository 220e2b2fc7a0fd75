import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { asProcessEnv } from "@/server/process-env";
import { scrub } from "../provider-error";

/**
 * Runs git (and tar) as child processes with argument arrays, a time limit, bounded output and an environment
 * built from scratch: the platform's own variables (tokens, database URLs) never reach git, and no system or user
 * git config, credential helper, hook or prompt can change what a command does.
 */

export type GitIdentity = { name: string; email: string };

export type GitCliOptions = {
  /** The git executable; "git" is looked up on a fixed system PATH. */
  git?: string;
  /** Default time limit of one command. */
  timeoutMs?: number;
  /** Identity of commits the platform makes (author too, unless a command sets its own). */
  committer?: GitIdentity;
  /** Strings to redact from every error message (e.g. a token the caller holds). */
  secrets?: ReadonlyArray<string>;
};

export type RunOptions = {
  /** The repository (GIT_DIR) a command works on. */
  gitDir?: string;
  cwd?: string;
  /** Extra variables on top of the isolated environment (index file, work tree, author). */
  env?: Record<string, string>;
  input?: string | Buffer;
  timeoutMs?: number;
  /** Stdout beyond this many bytes kills the command (default 64 MiB). */
  maxOutputBytes?: number;
};

export type GitCli = {
  /** Runs `git <args>` and returns its stdout; a non-zero exit throws GitCommandError. */
  run(args: ReadonlyArray<string>, options?: RunOptions): Promise<Buffer>;
  /** Like run, but a non-zero exit returns its code instead of throwing (for "does it exist" probes). */
  probe(args: ReadonlyArray<string>, options?: RunOptions): Promise<{ code: number; stdout: Buffer }>;
  /** `git <gitArgs> | tar <tarArgs>` as two processes with no shell in between. */
  pipeToTar(
    gitArgs: ReadonlyArray<string>,
    tarArgs: ReadonlyArray<string>,
    options?: RunOptions,
  ): Promise<void>;
  /** Runs `tar <args>` in the same isolated environment. */
  tar(args: ReadonlyArray<string>, options?: RunOptions): Promise<Buffer>;
};

export class GitCommandError extends Error {
  readonly command: string;
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly timedOut: boolean;

  constructor(command: string, detail: { exitCode: number | null; stderr: string; timedOut: boolean }) {
    const reason = detail.timedOut
      ? "did not finish in time"
      : `failed (exit ${detail.exitCode ?? "signal"})${detail.stderr ? `: ${detail.stderr}` : ""}`;
    super(`${command} ${reason}`);
    this.name = "GitCommandError";
    this.command = command;
    this.exitCode = detail.exitCode;
    this.stderr = detail.stderr;
    this.timedOut = detail.timedOut;
  }
}

const systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const defaultTimeoutMs = 60_000;
const defaultMaxOutputBytes = 64 * 1024 * 1024;
const maxStderrChars = 2000;
const defaultCommitter: GitIdentity = { name: "Kiln", email: "kiln@localhost" };

// Settings that make a command ignore anything a repository's own config could ask for.
const hardenedConfig = [
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "core.fsmonitor=false",
  "-c",
  "core.autocrlf=false",
  "-c",
  "core.symlinks=true",
  "-c",
  "gc.auto=0",
  "-c",
  "maintenance.auto=false",
  "-c",
  "credential.helper=",
];

let neutralHome: string | undefined;

/** An empty directory used as HOME so that no user-level file (~/.gitconfig, ~/.netrc) is ever read. */
function neutralHomeDir(): string {
  neutralHome ??= mkdtempSync(path.join(os.tmpdir(), "kiln-git-home-"));
  return neutralHome;
}

function isolatedEnv(
  committer: GitIdentity,
  gitDir: string | undefined,
  extra: Record<string, string>,
): NodeJS.ProcessEnv {
  const home = neutralHomeDir();
  const env: Record<string, string> = {
    PATH: systemPath,
    HOME: home,
    XDG_CONFIG_HOME: home,
    LC_ALL: "C",
    TZ: "UTC",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    // Only local paths and bundles: no network transport, no ext:: helper, whatever a URL says.
    GIT_ALLOW_PROTOCOL: "file",
    GIT_AUTHOR_NAME: committer.name,
    GIT_AUTHOR_EMAIL: committer.email,
    GIT_COMMITTER_NAME: committer.name,
    GIT_COMMITTER_EMAIL: committer.email,
  };
  if (gitDir) env.GIT_DIR = gitDir;
  return asProcessEnv({ ...env, ...extra });
}

function tail(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > maxStderrChars ? `…${trimmed.slice(-maxStderrChars)}` : trimmed;
}

type Outcome = { code: number | null; stdout: Buffer; stderr: string; timedOut: boolean; overflow: boolean };

function collect(
  child: ChildProcess,
  options: { timeoutMs: number; maxOutputBytes: number; keepStdout: boolean },
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = "";
    let timedOut = false;
    let overflow = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    if (options.keepStdout) {
      child.stdout?.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxOutputBytes) {
          overflow = true;
          child.kill("SIGKILL");
          return;
        }
        chunks.push(chunk);
      });
    }
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-4 * maxStderrChars);
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(chunks), stderr, timedOut, overflow });
    });
  });
}

export function createGitCli(options: GitCliOptions = {}): GitCli {
  const gitBinary = options.git ?? "git";
  const committer = options.committer ?? defaultCommitter;
  const secrets = options.secrets ?? [];
  const defaultTimeout = options.timeoutMs ?? defaultTimeoutMs;

  function fail(command: string, outcome: Outcome): GitCommandError {
    const stderr = outcome.overflow ? "output exceeded the size limit" : scrub(tail(outcome.stderr), secrets);
    return new GitCommandError(command, { exitCode: outcome.code, stderr, timedOut: outcome.timedOut });
  }

  async function exec(
    file: string,
    args: ReadonlyArray<string>,
    label: string,
    run: RunOptions,
  ): Promise<Outcome> {
    const child = spawn(file, [...args], {
      cwd: run.cwd,
      env: isolatedEnv(committer, run.gitDir, run.env ?? {}),
      stdio: ["pipe", "pipe", "pipe"],
    });
    // A command that exits before reading its input closes the pipe; its exit code reports that.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(run.input);
    try {
      return await collect(child, {
        timeoutMs: run.timeoutMs ?? defaultTimeout,
        maxOutputBytes: run.maxOutputBytes ?? defaultMaxOutputBytes,
        keepStdout: true,
      });
    } catch (error) {
      throw new GitCommandError(label, {
        exitCode: null,
        stderr: scrub(error instanceof Error ? error.message : String(error), secrets),
        timedOut: false,
      });
    }
  }

  async function probe(args: ReadonlyArray<string>, run: RunOptions = {}) {
    const label = `git ${args[0] ?? ""}`.trim();
    const outcome = await exec(gitBinary, [...hardenedConfig, ...args], label, run);
    if (outcome.timedOut || outcome.overflow || outcome.code === null) throw fail(label, outcome);
    return { code: outcome.code, stdout: outcome.stdout };
  }

  async function runGit(args: ReadonlyArray<string>, run: RunOptions = {}): Promise<Buffer> {
    const label = `git ${args[0] ?? ""}`.trim();
    const outcome = await exec(gitBinary, [...hardenedConfig, ...args], label, run);
    if (outcome.code !== 0 || outcome.timedOut || outcome.overflow) throw fail(label, outcome);
    return outcome.stdout;
  }

  async function tar(args: ReadonlyArray<string>, run: RunOptions = {}): Promise<Buffer> {
    const outcome = await exec("tar", args, "tar", run);
    if (outcome.code !== 0 || outcome.timedOut || outcome.overflow) throw fail("tar", outcome);
    return outcome.stdout;
  }

  async function pipeToTar(
    gitArgs: ReadonlyArray<string>,
    tarArgs: ReadonlyArray<string>,
    run: RunOptions = {},
  ): Promise<void> {
    const env = isolatedEnv(committer, run.gitDir, run.env ?? {});
    const timeoutMs = run.timeoutMs ?? defaultTimeout;
    const producer = spawn(gitBinary, [...hardenedConfig, ...gitArgs], {
      cwd: run.cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const consumer = spawn("tar", [...tarArgs], { cwd: run.cwd, env, stdio: ["pipe", "ignore", "pipe"] });
    const stdin = consumer.stdin;
    if (!producer.stdout || !stdin) throw new Error("child process pipes are missing");
    producer.stdout.pipe(stdin);
    // tar dying early must not crash the platform with an EPIPE on git's side; exit codes report it.
    stdin.on("error", () => undefined);
    const limits = { timeoutMs, maxOutputBytes: 0, keepStdout: false };
    const [gitOutcome, tarOutcome] = await Promise.all([
      collect(producer, limits).catch((error: unknown) => spawnFailure(error)),
      collect(consumer, limits).catch((error: unknown) => spawnFailure(error)),
    ]);
    const label = `git ${gitArgs[0] ?? ""}`.trim();
    const gitFailed = gitOutcome.code !== 0 || gitOutcome.timedOut;
    const tarFailed = tarOutcome.code !== 0 || tarOutcome.timedOut;
    // A git killed by a signal after tar gave up (SIGPIPE) says less than tar's own error.
    if (gitFailed && !(gitOutcome.code === null && !gitOutcome.timedOut && tarFailed))
      throw fail(label, gitOutcome);
    if (tarFailed) throw fail("tar", tarOutcome);
  }

  return { run: runGit, probe, pipeToTar, tar };
}

function spawnFailure(error: unknown): Outcome {
  return {
    code: null,
    stdout: Buffer.alloc(0),
    stderr: error instanceof Error ? error.message : String(error),
    timedOut: false,
    overflow: false,
  };
}
