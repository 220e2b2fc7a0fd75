import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs/promises";
import { constants as osConstants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { asProcessEnv } from "@/server/process-env";
import { ProviderError } from "../provider-error";
import { joinCgroups } from "./local-cgroups";
import { errnoOf, localSandboxError } from "./local-errors";
import type { LogChunk } from "./port";

/**
 * One command of a local sandbox as a host process. It is started in its own session and process group
 * (`detached`), so the whole tree can be signalled at once; with bubblewrap it also lives in its own pid
 * namespace, which the kernel tears down with everything in it when the command's pid 1 ends.
 */

export type SpawnPlan = {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** bwrap was given `--info-fd 3`, and `--block-fd 4` when `block` (it waits for us before running anything). */
  bwrap?: { block: boolean };
  /** cgroups every process of the command must be in. */
  cgroups: string[];
  /** Started as this uid/gid, with no supplementary groups (libuv drops them); undefined: the platform's. */
  user?: { uid: number; gid: number };
  stdin?: Buffer;
};

export type SandboxProcess = {
  readonly pid: number;
  /** Resolves once the process exited and its output is drained; exit by signal N is 128 + N. */
  readonly exited: Promise<{ exitCode: number }>;
  readonly hasExited: boolean;
  /** SIGTERM to the command's process group, SIGKILL to everything after `graceMs`; resolves once it exited. */
  kill(graceMs: number): Promise<void>;
};

const bwrapInfoSchema = z.object({ "child-pid": z.number().int().positive() });

export async function spawnSandboxProcess(
  plan: SpawnPlan,
  onOutput: (chunk: LogChunk) => void,
): Promise<SandboxProcess> {
  const stdio: Array<"pipe" | "ignore"> = [plan.stdin ? "pipe" : "ignore", "pipe", "pipe"];
  if (plan.bwrap) stdio.push("pipe", plan.bwrap.block ? "pipe" : "ignore");
  let child: ChildProcess;
  try {
    child = spawn(plan.file, plan.args, {
      cwd: plan.cwd,
      env: asProcessEnv(plan.env),
      detached: true,
      stdio,
      ...(plan.user ? { uid: plan.user.uid, gid: plan.user.gid } : {}),
    });
  } catch (error) {
    throw localSandboxError(`starting ${plan.file}`, error);
  }
  const started = await startedOrFailed(child, plan.file);
  if (!started.ok) {
    // Same shape a shell gives for a missing command, so callers see a result rather than a throw.
    onOutput({ stream: "stderr", data: `${started.message}\n` });
    return finishedProcess(started.exitCode);
  }
  const pid = started.pid;
  let exitedFlag = false;
  const exited = collectExit(child, onOutput).then((result) => {
    exitedFlag = true;
    return result;
  });

  /** The pid namespace's init (bwrap's pid 1), whose children are the command. */
  let namespaceInit: number | undefined;
  try {
    if (plan.cgroups.length > 0) await joinCgroups(plan.cgroups, pid);
    if (plan.bwrap) {
      const info = child.stdio[3];
      const block = child.stdio[4];
      if (!isReadable(info)) throw new Error("bwrap's info pipe is missing");
      // bwrap closes these socketpairs once the command runs (or when it fails): a reset then is expected,
      // and a bwrap that died early shows up as the command's exit status.
      info.on("error", ignorePipeError);
      if (isWritable(block)) block.on("error", ignorePipeError);
      namespaceInit = await readBwrapChildPid(info);
      // pid 1 was cloned before we could move bwrap; it must join too, before it runs anything.
      if (namespaceInit !== undefined && plan.cgroups.length > 0)
        await joinCgroups(plan.cgroups, namespaceInit);
      if (plan.bwrap.block && isWritable(block)) block.end("go");
    }
    if (plan.stdin) {
      // A command that exits without reading all its input closes the pipe; its exit status says so.
      child.stdin?.on("error", ignorePipeError);
      child.stdin?.end(plan.stdin);
    }
  } catch (error) {
    killGroup(pid, "SIGKILL");
    await exited;
    throw localSandboxError("placing the command in the sandbox's cgroups", error);
  }

  return {
    pid,
    exited,
    get hasExited() {
      return exitedFlag;
    },
    async kill(graceMs: number) {
      if (exitedFlag) return;
      // bwrap ignores SIGTERM; its pid 1 leads the session (--new-session) the command runs in, and ignores
      // it too, so signalling that group reaches the command, whose exit then ends the namespace. Right after
      // start, pid 1 may not have forked the command yet: a signal then would reach nobody.
      if (namespaceInit !== undefined) await commandForked(namespaceInit, exited);
      killGroup(namespaceInit ?? pid, "SIGTERM");
      const timedOut = await Promise.race([
        exited.then(() => false),
        sleep(graceMs, undefined, { ref: false }).then(() => true),
      ]);
      // Killing bwrap ends the namespace (--die-with-parent), and with it everything inside.
      if (timedOut) killGroup(pid, "SIGKILL");
      await exited;
    },
  };
}

/** Waits (bounded) until bwrap's pid 1 has a child, i.e. the command process exists. */
async function commandForked(init: number, exited: Promise<unknown>): Promise<void> {
  let done = false;
  void exited.then(() => {
    done = true;
  });
  for (let attempt = 0; attempt < 100 && !done; attempt++) {
    try {
      const children = await fs.readFile(`/proc/${init}/task/${init}/children`, "utf8");
      if (children.trim()) return;
    } catch (error) {
      const code = errnoOf(error);
      if (code === "ENOENT" || code === "ESRCH") return;
      throw localSandboxError(`checking the command of namespace ${init}`, error);
    }
    await sleep(10);
  }
}

function ignorePipeError(error: unknown): void {
  const code = errnoOf(error);
  if (code === "ECONNRESET" || code === "EPIPE") return;
  // Anything else on a private pipe means the process is gone; its exit status tells the caller.
}

function isReadable(stream: unknown): stream is Readable {
  return typeof stream === "object" && stream !== null && "on" in stream && "read" in stream;
}

function isWritable(stream: unknown): stream is Writable {
  return typeof stream === "object" && stream !== null && "end" in stream && "write" in stream;
}

async function startedOrFailed(
  child: ChildProcess,
  file: string,
): Promise<{ ok: true; pid: number } | { ok: false; exitCode: number; message: string }> {
  const outcome = await new Promise<unknown>((resolve) => {
    child.once("spawn", () => resolve(undefined));
    child.once("error", resolve);
  });
  if (outcome === undefined && child.pid !== undefined) return { ok: true, pid: child.pid };
  const code = errnoOf(outcome);
  if (code === "ENOENT") return { ok: false, exitCode: 127, message: `${file}: command not found` };
  if (code === "EACCES") return { ok: false, exitCode: 126, message: `${file}: permission denied` };
  if (code === "ENOTDIR") return { ok: false, exitCode: 126, message: `${file}: not a directory` };
  throw localSandboxError(`starting ${file}`, outcome);
}

function finishedProcess(exitCode: number): SandboxProcess {
  return {
    pid: -1,
    exited: Promise.resolve({ exitCode }),
    hasExited: true,
    kill: async () => undefined,
  };
}

async function collectExit(
  child: ChildProcess,
  onOutput: (chunk: LogChunk) => void,
): Promise<{ exitCode: number }> {
  const pump = (stream: Readable | null, name: LogChunk["stream"]) => {
    if (!stream) return Promise.resolve();
    const decoder = new StringDecoder("utf8");
    stream.on("data", (data: Buffer) => onOutput({ stream: name, data: decoder.write(data) }));
    return new Promise<void>((resolve) => {
      stream.once("close", () => {
        const rest = decoder.end();
        if (rest) onOutput({ stream: name, data: rest });
        resolve();
      });
    });
  };
  const drained = Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve) => child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  // Without a pid namespace, background children of the command would keep its pipes (and the sandbox) busy;
  // ending the whole group when the command ends gives both modes the same semantics.
  if (child.pid !== undefined) killGroup(child.pid, "SIGKILL");
  const drainedInTime = await Promise.race([
    drained.then(() => true),
    sleep(2000, undefined, { ref: false }).then(() => false),
  ]);
  if (!drainedInTime) {
    // A process that escaped the group (setsid) still holds the pipes; stop() kills it, we stop waiting.
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
  const exitCode = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
  return { exitCode };
}

async function readBwrapChildPid(info: Readable): Promise<number | undefined> {
  let text = "";
  // Unref'd: a race loser must not keep the platform (or a CLI) alive for ten seconds.
  const deadline = sleep(10_000, undefined, { ref: false }).then(() => {
    throw new ProviderError(
      "local-sandbox",
      "timeout",
      "Local sandbox: bubblewrap did not start within 10 s.",
    );
  });
  const read = new Promise<number | undefined>((resolve) => {
    info.on("data", (data: Buffer) => {
      text += data.toString("utf8");
      const parsed = bwrapInfoSchema.safeParse(safeJson(text));
      if (parsed.success) resolve(parsed.data["child-pid"]);
    });
    // bwrap failed before starting anything (its stderr and exit status say why).
    info.once("close", () => resolve(undefined));
  });
  return Promise.race([read, deadline]);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** Signals a process group; a group that is already gone is not an error. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid <= 0) return;
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if (errnoOf(error) !== "ESRCH") throw localSandboxError(`signalling process group ${pgid}`, error);
  }
}

export function killPid(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0 || pid === process.pid) return;
  try {
    process.kill(pid, signal);
  } catch (error) {
    if (errnoOf(error) !== "ESRCH") throw localSandboxError(`signalling process ${pid}`, error);
  }
}
