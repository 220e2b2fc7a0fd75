import { type ChildProcess, spawn } from "node:child_process";
import { asProcessEnv } from "../../server/process-env";

/**
 * Child processes of the runner: always an argument array (never a shell line), stdin closed, each in its own
 * process group so a timeout or a stop ends the whole tree (npm → sh → next → workers), not just its head.
 */

export type Exit = { code: number | null; signal: NodeJS.Signals | null; timedOut: boolean; error?: string };

export type RunOptions = {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
};

const live = new Set<ChildProcess>();
/** Set once the runner is told to stop: no new child may start (it would outlive the runner). */
let stopping = false;
const killGraceMs = 5_000;

/** Signals a child's whole process group; a group that is already gone is fine. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if (!(error instanceof Error && "code" in error && error.code === "ESRCH")) throw error;
  }
}

/** SIGTERM, then SIGKILL if the group is still there after a grace period. */
export function stopGroup(child: ChildProcess): void {
  killGroup(child, "SIGTERM");
  setTimeout(() => killGroup(child, "SIGKILL"), killGraceMs).unref();
}

/** Every child still running (for a clean stop when the runner itself is told to stop). */
export function stopAllChildren(): void {
  stopping = true;
  for (const child of live) stopGroup(child);
}

/** Resolves once every child has exited, or after `maxMs` (a child that outlives that is left to the sandbox). */
export function childrenExited(maxMs: number): Promise<void> {
  // A child leaves `live` when it closes: every one still in it is yet to exit.
  const exits = [...live].map(
    (child) => new Promise<void>((resolve) => child.once("close", () => resolve())),
  );
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, maxMs);
    void Promise.all(exits).then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export class StoppingError extends Error {
  override readonly name = "StoppingError";
}

export function startProcess(
  cmd: string,
  args: string[],
  options: Omit<RunOptions, "timeoutMs">,
): ChildProcess {
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    // Built from scratch by the caller: the runner's own environment is not inherited.
    env: asProcessEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  live.add(child);
  child.on("close", () => live.delete(child));
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  child.stdout?.on("data", (text: string) => options.onStdout?.(text));
  child.stderr?.on("data", (text: string) => options.onStderr?.(text));
  return child;
}

/** Runs a command to completion (bounded by `timeoutMs`); never rejects: a failure to start is an Exit too. */
export function runProcess(cmd: string, args: string[], options: RunOptions): Promise<Exit> {
  if (stopping)
    return Promise.resolve({ code: null, signal: null, timedOut: false, error: "the runner is stopping" });
  return new Promise((resolve) => {
    let timedOut = false;
    let startError: string | undefined;
    const child = startProcess(cmd, args, options);
    const timer = setTimeout(() => {
      timedOut = true;
      stopGroup(child);
    }, options.timeoutMs);
    child.on("error", (error) => {
      startError = error.message;
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, error: startError });
    });
  });
}

/** Like runProcess, collecting the output (for git and other short commands whose output is the answer). */
export async function capture(
  cmd: string,
  args: string[],
  options: Omit<RunOptions, "onStdout" | "onStderr">,
): Promise<Exit & { stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const exit = await runProcess(cmd, args, {
    ...options,
    onStdout: (text) => {
      if (stdout.length < 1_000_000) stdout += text;
    },
    onStderr: (text) => {
      if (stderr.length < 1_000_000) stderr += text;
    },
  });
  return { ...exit, stdout, stderr };
}

export function describeExit(exit: Exit): string {
  if (exit.error) return `could not start (${exit.error})`;
  if (exit.timedOut) return "timed out";
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exit code ${exit.code}`;
}
