import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

// A cross-process lock as a directory (mkdir is atomic on every local filesystem). The owner writes its pid and
// host; a lock whose owner process is gone, or that is older than `staleMs`, is taken over, so a crash never
// wedges a cache forever.

export type DirLockOptions = { staleMs?: number; waitMs?: number; pollMs?: number };

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && "code" in error && error.code === code;
}

/** Whether process `pid` on this host is still there. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return isErrno(error, "EPERM");
  }
}

async function isStale(lockDir: string, staleMs: number): Promise<boolean> {
  try {
    const [owner, stat] = await Promise.all([
      fs.readFile(path.join(lockDir, "owner"), "utf8"),
      fs.stat(lockDir),
    ]);
    const [host, pidText] = owner.split(":");
    const pid = Number(pidText);
    if (Date.now() - stat.mtimeMs > staleMs) return true;
    return host === os.hostname() && Number.isInteger(pid) && !processAlive(pid);
  } catch (error) {
    // The owner file is written right after mkdir: a lock without one is either just born or abandoned mid-birth.
    if (isErrno(error, "ENOENT")) {
      const stat = await fs.stat(lockDir).catch((statError: unknown) => {
        if (isErrno(statError, "ENOENT")) return null;
        throw statError;
      });
      return stat !== null && Date.now() - stat.mtimeMs > 5_000;
    }
    throw error;
  }
}

/**
 * Whether some live process holds the lock at `lockDir` right now (what a status page may say is "in progress"); a
 * lock left by a dead process, or older than `staleMs`, is not held.
 */
export async function isLockHeld(lockDir: string, staleMs = 30 * 60_000): Promise<boolean> {
  try {
    await fs.stat(lockDir);
  } catch (error) {
    if (isErrno(error, "ENOENT") || isErrno(error, "ENOTDIR")) return false;
    throw error;
  }
  return !(await isStale(lockDir, staleMs));
}

/** Runs `work` holding the lock at `lockDir`; waits (bounded) while another process holds it. */
export async function withDirLock<T>(
  lockDir: string,
  work: () => Promise<T>,
  options: DirLockOptions = {},
): Promise<T> {
  const staleMs = options.staleMs ?? 30 * 60_000;
  const deadline = Date.now() + (options.waitMs ?? 30 * 60_000);
  await fs.mkdir(path.dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      await fs.mkdir(lockDir);
      await fs.writeFile(path.join(lockDir, "owner"), `${os.hostname()}:${process.pid}`);
      break;
    } catch (error) {
      if (!isErrno(error, "EEXIST")) throw error;
      if (await isStale(lockDir, staleMs)) {
        await fs.rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for the lock ${lockDir}`);
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
    }
  }
  try {
    return await work();
  } finally {
    await fs.rm(lockDir, { recursive: true, force: true });
  }
}
