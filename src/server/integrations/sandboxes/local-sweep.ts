import fs from "node:fs/promises";
import { errnoOf, localSandboxError } from "./local-errors";
import { sandboxIdEnv } from "./local-isolation";

/**
 * Pids of every host process whose environment carries the sandbox's marker. This finds processes the platform
 * no longer has handles for (started before a restart, or escaped their process group with setsid); a process
 * that wiped its own environment is still caught by the pid namespace or the cgroup.
 */
export async function markedPids(id: string): Promise<number[]> {
  const marker = Buffer.from(`${sandboxIdEnv}=${id}\0`);
  let entries: string[];
  try {
    entries = await fs.readdir("/proc");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return [];
    throw localSandboxError("listing /proc", error);
  }
  const pids = entries.filter((name) => /^\d+$/.test(name)).map(Number);
  const found = await Promise.all(
    pids.map(async (pid) => {
      if (pid === process.pid) return undefined;
      try {
        const environ = await fs.readFile(`/proc/${pid}/environ`);
        return hasEntry(environ, marker) ? pid : undefined;
      } catch (error) {
        // The process exited meanwhile, or it is a kernel thread / another user's process we may not read.
        const code = errnoOf(error);
        if (code === "ENOENT" || code === "ESRCH" || code === "EACCES" || code === "EPERM") return undefined;
        throw localSandboxError(`reading /proc/${pid}/environ`, error);
      }
    }),
  );
  return found.filter((pid): pid is number => pid !== undefined);
}

function hasEntry(environ: Buffer, marker: Buffer): boolean {
  let from = 0;
  while (true) {
    const at = environ.indexOf(marker, from);
    if (at === -1) return false;
    if (at === 0 || environ[at - 1] === 0) return true;
    from = at + 1;
  }
}
