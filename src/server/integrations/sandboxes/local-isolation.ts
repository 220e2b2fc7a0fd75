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
  /** The in-namespace egress proxy's port; undefined when the sandbox shares the host's network. */
  proxyPort?: number;
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
    ...(input.proxyPort === undefined ? {} : proxyEnv(input.proxyPort)),
    ...input.sandboxEnv,
    ...input.commandEnv,
    [sandboxIdEnv]: input.id,
  };
}

/**
 * Package managers, Codex (reqwest) and Claude Code read these; nothing else leaves the namespace anyway, so a
 * tool that ignores them just fails to connect. Loopback stays direct: the door to the platform and the app itself.
 */
function proxyEnv(port: number): Record<string, string> {
  const proxy = `http://127.0.0.1:${port}`;
  return {
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
    npm_config_proxy: proxy,
    npm_config_https_proxy: proxy,
  };
}

/** Who sandbox processes run as on the host when the platform is root (see `LocalSandboxesOptions.sandboxUser`). */
export type SandboxUser = { uid: number; gid: number };

/**
 * A system path the sandbox sees: `/usr`, `/etc`, `/opt` read-only, and on merged-/usr hosts `/bin`, `/lib`…
 * as the same symlinks into `/usr`. Found once per adapter (`systemMounts`).
 */
export type SystemMount =
  | { kind: "ro-bind"; path: string }
  | { kind: "symlink"; path: string; target: string };

const systemDirs = ["/usr", "/etc", "/opt"];
const mergedUsrLinks = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

/**
 * The host paths a sandbox may see, and nothing else: the system (binaries, libraries, /etc) plus the prefix of
 * the platform's Node when it lives outside /usr (an nvm or /opt install), so `node` and `npm` resolve inside.
 * An allow-list rather than "the host minus what we hide": whatever the operator adds to the host later (a
 * database socket under /run, a new secret under /srv) stays out without anyone remembering to hide it. Unix
 * sockets in particular must not be visible at all: connect() works through a read-only mount.
 */
export async function systemMounts(): Promise<SystemMount[]> {
  const mounts: SystemMount[] = [];
  for (const dir of systemDirs) {
    if (await isDirectory(dir)) mounts.push({ kind: "ro-bind", path: dir });
  }
  for (const link of mergedUsrLinks) {
    let stat: Awaited<ReturnType<typeof fs.lstat>>;
    try {
      stat = await fs.lstat(link);
    } catch (error) {
      if (errnoOf(error) === "ENOENT") continue;
      throw localSandboxError(`checking ${link}`, error);
    }
    if (stat.isSymbolicLink()) mounts.push({ kind: "symlink", path: link, target: await fs.readlink(link) });
    else if (stat.isDirectory()) mounts.push({ kind: "ro-bind", path: link });
  }
  const nodePrefix = path.dirname(path.dirname(await fs.realpath(process.execPath)));
  if (
    !mounts.some((mount) => mount.kind === "ro-bind" && isInside(nodePrefix, mount.path)) &&
    nodePrefix !== "/"
  )
    mounts.push({ kind: "ro-bind", path: nodePrefix });
  return mounts;
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(dir)).isDirectory();
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return false;
    throw localSandboxError(`checking ${dir}`, error);
  }
}

/** Files under /etc no sandbox needs and a misconfigured host might leave readable: masked with an empty file. */
const maskedFiles = ["/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-"];

export type BwrapLayout = {
  dirs: SandboxDirs;
  system: SystemMount[];
  /** Platform paths (data dir, checkout, the sandboxes root) to cover with an empty tmpfs if a system path holds them. */
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
 * bubblewrap arguments, in mount order: an empty root with only the system paths read-only; fresh /proc (of its
 * own pid namespace) and /dev; the sandbox's own tmp as /tmp and /var/tmp; then its work and home dirs (and any
 * host paths it was given) read-write at their own absolute paths, so paths recorded inside (agent session files
 * keyed by cwd) stay valid; then read-only paths (the toolchain cache, which shows through a hidden data dir). Everything else of the host — the data
 * dir, the checkout, other sandboxes, /root, /run, /var — does not exist inside. A user namespace of its own;
 * capabilities dropped on top, so even a process that is root inside cannot remount anything.
 */
export function bwrapArgs(layout: BwrapLayout): string[] {
  const args: string[] = [];
  for (const mount of layout.system) {
    if (mount.kind === "symlink") args.push("--symlink", mount.target, mount.path);
    else args.push("--ro-bind", mount.path, mount.path);
  }
  // An operator may install Kiln under /opt: its data dir and checkout must still stay out.
  const visible = layout.system.flatMap((mount) => (mount.kind === "ro-bind" ? [mount.path] : []));
  const hidden = [...new Set(layout.hidePaths)]
    .filter((dir) => dir !== "/" && visible.some((shown) => isInside(dir, shown)))
    .sort((a, b) => a.length - b.length);
  for (const dir of hidden) args.push("--tmpfs", dir);
  for (const file of maskedFiles) args.push("--ro-bind-try", "/dev/null", file);
  args.push("--dev", "/dev", "--proc", "/proc", "--bind", layout.dirs.tmp, "/tmp");
  args.push("--bind", layout.dirs.tmp, "/var/tmp");
  for (const dir of [layout.dirs.work, layout.dirs.home, ...layout.hostPaths]) args.push("--bind", dir, dir);
  for (const dir of layout.readOnlyPaths) args.push("--ro-bind", dir, dir);
  args.push(
    "--unshare-user",
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
