import fs from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { errnoOf, localSandboxError } from "./local-errors";

/**
 * cgroup v1 memory/pids limits for a local sandbox: one `kiln-<id>` group per controller, nested under the
 * platform's own group (so whatever limits the operator put on the platform still bound its sandboxes). Every
 * process of the sandbox joins them, which also gives `stop()` a complete list of pids to kill.
 */

/** `cpus`: CPU time per period (CFS quota) in cores; best effort, as some hosts do not delegate the controller. */
export type CgroupLimits = { memoryLimitMb: number | null; pidsLimit: number | null; cpus?: number | null };

export type CgroupSetup = { dirs: string[]; applied: string } | { dirs: []; unavailable: string };

type Controller = { name: "memory" | "pids"; files: Array<[string, string]> };

export async function createCgroups(
  cgroupRoot: string,
  id: string,
  limits: CgroupLimits,
): Promise<CgroupSetup> {
  const controllers: Controller[] = [];
  if (limits.memoryLimitMb !== null) {
    const bytes = String(limits.memoryLimitMb * 1024 * 1024);
    controllers.push({ name: "memory", files: [["memory.limit_in_bytes", bytes]] });
  }
  if (limits.pidsLimit !== null) {
    controllers.push({ name: "pids", files: [["pids.max", String(limits.pidsLimit)]] });
  }
  if (controllers.length === 0) return { dirs: [], unavailable: "no limits configured" };
  const ownPaths = await ownCgroupPaths();
  const dirs: string[] = [];
  try {
    for (const controller of controllers) {
      const mount = path.join(cgroupRoot, controller.name);
      const own = ownPaths.get(controller.name) ?? "/";
      const dir = path.join(mount, own, `kiln-${id}`);
      await fs.mkdir(dir);
      dirs.push(dir);
      for (const [file, value] of controller.files) await fs.writeFile(path.join(dir, file), value);
    }
  } catch (error) {
    await removeCgroups(dirs);
    const code = errnoOf(error);
    if (code === "ENOENT" || code === "EACCES" || code === "EPERM" || code === "EROFS" || code === "EINVAL")
      return { dirs: [], unavailable: `${code} on ${cgroupRoot}` };
    throw localSandboxError("creating the sandbox's cgroups", error);
  }
  const applied = controllers.map((controller) =>
    controller.name === "memory" ? `memory ${limits.memoryLimitMb} MiB` : `${limits.pidsLimit} processes`,
  );
  const cpu = limits.cpus
    ? await cpuCgroup(cgroupRoot, ownPaths.get("cpu") ?? "/", id, limits.cpus)
    : undefined;
  if (cpu) {
    dirs.push(cpu);
    applied.push(`${limits.cpus} CPU${limits.cpus === 1 ? "" : "s"}`);
  }
  return { dirs, applied: applied.join(", ") };
}

const cfsPeriodUs = 100_000;

/** A `cpu` group with a CFS quota of `cpus` cores; undefined when the controller is not there or not ours. */
async function cpuCgroup(
  cgroupRoot: string,
  own: string,
  id: string,
  cpus: number,
): Promise<string | undefined> {
  const dir = path.join(cgroupRoot, "cpu", own, `kiln-${id}`);
  try {
    await fs.mkdir(dir);
  } catch (error) {
    const code = errnoOf(error);
    if (code === "ENOENT" || code === "EACCES" || code === "EPERM" || code === "EROFS") return undefined;
    throw localSandboxError("creating the sandbox's cpu cgroup", error);
  }
  try {
    await fs.writeFile(path.join(dir, "cpu.cfs_period_us"), String(cfsPeriodUs));
    await fs.writeFile(path.join(dir, "cpu.cfs_quota_us"), String(Math.round(cpus * cfsPeriodUs)));
    return dir;
  } catch (error) {
    await removeCgroups([dir]);
    const code = errnoOf(error);
    if (code === "EACCES" || code === "EPERM" || code === "EINVAL" || code === "ENOENT") return undefined;
    throw localSandboxError("limiting the sandbox's cpu", error);
  }
}

/** Controller → path of the platform's own cgroup, from /proc/self/cgroup ("N:memory:/some/path"). */
async function ownCgroupPaths(): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  let text = "";
  try {
    text = await fs.readFile("/proc/self/cgroup", "utf8");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return paths;
    throw localSandboxError("reading /proc/self/cgroup", error);
  }
  for (const line of text.split("\n")) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    for (const controller of match[1].split(",")) paths.set(controller, match[2]);
  }
  return paths;
}

/** Moves a process (and the threads of its group) into every cgroup of the sandbox. */
export async function joinCgroups(dirs: string[], pid: number): Promise<void> {
  for (const dir of dirs) {
    try {
      await fs.writeFile(path.join(dir, "cgroup.procs"), String(pid));
    } catch (error) {
      // A command that already finished cannot be moved, and needs no limit any more.
      if (errnoOf(error) === "ESRCH") return;
      throw error;
    }
  }
}

export async function cgroupPids(dirs: string[]): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of dirs) {
    let text = "";
    try {
      text = await fs.readFile(path.join(dir, "cgroup.procs"), "utf8");
    } catch (error) {
      if (errnoOf(error) === "ENOENT") continue;
      throw localSandboxError(`reading ${dir}/cgroup.procs`, error);
    }
    for (const line of text.split("\n")) {
      const pid = Number.parseInt(line, 10);
      if (Number.isInteger(pid) && pid > 0) pids.add(pid);
    }
  }
  return [...pids];
}

/** rmdir only succeeds once the group is empty; killed processes take a moment to be reaped. */
export async function removeCgroups(dirs: string[]): Promise<string[]> {
  const left: string[] = [];
  for (const dir of dirs) {
    let removed = false;
    for (let attempt = 0; attempt < 40 && !removed; attempt++) {
      try {
        await fs.rmdir(dir);
        removed = true;
      } catch (error) {
        const code = errnoOf(error);
        if (code === "ENOENT") removed = true;
        else if (code === "EBUSY") await sleep(25);
        else throw localSandboxError(`removing cgroup ${dir}`, error);
      }
    }
    if (!removed) left.push(dir);
  }
  return left;
}
