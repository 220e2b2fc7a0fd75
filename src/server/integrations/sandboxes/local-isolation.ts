import { constants as fsConstants } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { errnoOf, localSandboxError } from "./local-errors";
import type { SandboxDirs } from "./local-metadata";

/**
 * How a local sandbox's command is started: the environment it gets (built from scratch, never copied from the
 * platform) and, with bubblewrap, the mount/namespace layout that keeps it inside its directory.
 */

/** Standard locations plus the platform's own Node, so `node`/`npm` resolve inside sandboxes. */
export function defaultSandboxPath(): string {
  const dirs = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
  const nodeDir = path.dirname(process.execPath);
  return [...new Set([nodeDir, ...dirs])].join(":");
}

/** Looks for an executable in the given PATH-style list (adapters do not read the platform's own PATH). */
export async function findExecutable(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(":")) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      await fs.access(candidate, fsConstants.X_OK);
      return candidate;
    } catch (error) {
      const code = errnoOf(error);
      if (code === "ENOENT" || code === "EACCES" || code === "ENOTDIR") continue;
      throw localSandboxError(`looking for ${name}`, error);
    }
  }
  return undefined;
}

export const sandboxIdEnv = "KILN_SANDBOX_ID";

export type SandboxEnvInput = {
  id: string;
  dirs: SandboxDirs;
  searchPath: string;
  isolated: boolean;
  sandboxEnv: Record<string, string>;
  commandEnv: Record<string, string> | undefined;
};

/**
 * The complete environment of a sandbox command. The marker variable lets `stop()` find every process of the
 * sandbox, even ones that left its process group, after a platform restart; it is set last so nothing can
 * override it.
 */
export function sandboxEnv(input: SandboxEnvInput): Record<string, string> {
  return {
    PATH: input.searchPath,
    HOME: input.dirs.home,
    TMPDIR: input.isolated ? "/tmp" : input.dirs.tmp,
    LANG: "C.UTF-8",
    TERM: "dumb",
    ...input.sandboxEnv,
    ...input.commandEnv,
    [sandboxIdEnv]: input.id,
  };
}

export type BwrapLayout = {
  dirs: SandboxDirs;
  root: string;
  hidePaths: string[];
  hostPaths: string[];
  readOnlyPaths: string[];
  cwd: string;
  /** `--info-fd` (the namespace's pid 1, to signal the command) and `--block-fd` (hold it until cgroups joined). */
  syncFds?: { info: number; block: number | undefined };
};

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

/**
 * bubblewrap arguments, in mount order: the host read-only; the sandbox's own tmp as /tmp; tmpfs over hidden
 * paths (other sandboxes, whatever the operator lists); then the sandbox's work and home dirs (and any host paths
 * it was given) read-write at their own absolute paths, so paths recorded inside (agent session files keyed by
 * cwd) stay valid. Paths under /tmp need no hiding: /tmp is already replaced. Capabilities are dropped, or root in
 * the sandbox could simply remount / read-write.
 */
export function bwrapArgs(layout: BwrapLayout): string[] {
  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--bind", layout.dirs.tmp, "/tmp"];
  const hidden = [...new Set([layout.root, ...layout.hidePaths])]
    .filter((hidden) => !isInside(hidden, "/tmp") && hidden !== "/")
    .sort((a, b) => a.length - b.length);
  for (const dir of hidden) args.push("--tmpfs", dir);
  for (const dir of [layout.dirs.work, layout.dirs.home, ...layout.hostPaths]) args.push("--bind", dir, dir);
  // After the tmpfs hiding: a read-only path inside a hidden directory (the toolchain cache) shows through.
  for (const dir of layout.readOnlyPaths) args.push("--ro-bind", dir, dir);
  args.push(
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--hostname",
    "kiln-sandbox",
    "--cap-drop",
    "ALL",
    "--die-with-parent",
    "--new-session",
    "--chdir",
    layout.cwd,
  );
  if (layout.syncFds) args.push("--info-fd", String(layout.syncFds.info));
  if (layout.syncFds?.block !== undefined) args.push("--block-fd", String(layout.syncFds.block));
  return args;
}
