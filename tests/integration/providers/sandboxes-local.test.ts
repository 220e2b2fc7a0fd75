import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createLocalSandboxes,
  type LocalSandboxesOptions,
} from "../../../src/server/integrations/sandboxes/local";
import type {
  CreateSandboxInput,
  Sandboxes,
  SandboxHandle,
} from "../../../src/server/integrations/sandboxes/port";
import {
  collectLogs,
  describeSandboxesContract,
  makeSourceTree,
  providerErrorOf,
  textOf,
} from "../../contracts/sandboxes";

// Local sandboxes run for real: bubblewrap isolation (installed on this machine kind and in CI), cgroup v1 limits
// where writable, and the plain-process fallback.

const roots: string[] = [];
function tempRoot(base = os.tmpdir()): string {
  const root = fs.mkdtempSync(path.join(base, "kiln-sandboxes-"));
  roots.push(root);
  return root;
}
afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

function localHarness(options: Partial<LocalSandboxesOptions> = {}) {
  return async () => ({
    sandboxes: createLocalSandboxes({ root: tempRoot(), ...options }),
    reach: (url: string) => url,
    previewPort: 3000,
    close: async () => undefined,
  });
}

describeSandboxesContract("local (bubblewrap)", localHarness());
describeSandboxesContract("local (plain processes)", localHarness({ bwrapPath: null }));

function input(overrides: Partial<CreateSandboxInput> = {}): CreateSandboxInput {
  return {
    name: `local-${Math.random().toString(36).slice(2, 8)}`,
    source: { kind: "empty" },
    ports: [],
    env: {},
    timeoutMs: 120_000,
    ...overrides,
  };
}

/** pids whose command line contains `marker` (pgrep -f), excluding pgrep itself. */
function pidsMatching(marker: string): number[] {
  const result = spawnSync("pgrep", ["-f", marker], { encoding: "utf8" });
  return result.stdout
    .split("\n")
    .filter(Boolean)
    .map(Number)
    .filter((pid) => pid !== result.pid);
}

/** A node process (marker in its argv) that also starts a grandchild in a new session, as daemons do. */
function daemonArgs(marker: string): string[] {
  const grandchild = `require('child_process').spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)', '${marker}-grandchild'], {detached: true, stdio: 'ignore'}).unref(); setInterval(()=>{},1000)`;
  return ["-e", grandchild, marker];
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(50);
  }
  return check();
}

describe("local sandboxes (bubblewrap): isolation", () => {
  const warnings: string[] = [];
  let sandboxes: Sandboxes;
  let root: string;
  let sandbox: SandboxHandle;
  let neighbour: SandboxHandle;

  beforeAll(async () => {
    process.env.KILN_SECRET_KEY = "canary-platform-secret-7f3a";
    // Outside /tmp, so hiding the sandboxes root (not just replacing /tmp) is what keeps neighbours apart.
    root = tempRoot("/var/tmp");
    sandboxes = createLocalSandboxes({ root, onWarning: (message) => warnings.push(message) });
    sandbox = await sandboxes.create(input({ env: { RUN_TOKEN: "run-token-for-sandbox" } }));
    neighbour = await sandboxes.create(input());
    await neighbour.writeFiles([{ path: "neighbour-secret.txt", content: "private" }]);
  });

  afterAll(async () => {
    delete process.env.KILN_SECRET_KEY;
    await Promise.allSettled([sandbox?.stop(), neighbour?.stop()]);
  });

  it("uses bubblewrap and says which limits apply", () => {
    expect(warnings.some((w) => w.includes("bubblewrap"))).toBe(false);
    expect(warnings).toContain(
      "sandbox limits: cgroup v1, memory 4096 MiB, 1024 processes, 2 CPUs per sandbox",
    );
  });

  it("cannot write outside its directories: not /etc, not the platform's checkout", async () => {
    const marker = `kiln-escape-${Date.now()}`;
    const repoFile = path.join(process.cwd(), `.${marker}`);
    const result = await sandbox.run({
      cmd: "sh",
      args: ["-c", `touch /etc/${marker}; echo "etc=$?"; touch ${repoFile}; echo "repo=$?"`],
    });
    expect(result.stdout).toBe("etc=1\nrepo=1\n");
    expect(result.stderr).toContain("Read-only file system");
    expect(fs.existsSync(`/etc/${marker}`)).toBe(false);
    expect(fs.existsSync(repoFile)).toBe(false);
  });

  it("has no capabilities to undo the read-only mounts", async () => {
    const result = await sandbox.run({ cmd: "sh", args: ["-c", "mount -o remount,rw /; echo $?"] });
    expect(result.stdout.trim()).not.toBe("0");
    const status = await sandbox.run({ cmd: "grep", args: ["CapEff", "/proc/self/status"] });
    expect(status.stdout).toMatch(/CapEff:\s+0+\n/);
  });

  it("cannot see other sandboxes' files", async () => {
    const neighbourFile = path.join(neighbour.workdir, "neighbour-secret.txt");
    expect(fs.readFileSync(neighbourFile, "utf8")).toBe("private");
    const result = await sandbox.run({ cmd: "cat", args: [neighbourFile] });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toBe("");
  });

  it("cannot see the platform user's home (credentials)", async () => {
    const home = os.userInfo().homedir;
    expect(fs.readdirSync(home).length).toBeGreaterThan(0);
    const result = await sandbox.run({ cmd: "ls", args: ["-A", home] });
    // Absent (only system paths are shown) or, when it sits inside one, an empty cover.
    expect(result.stdout).toBe("");
  });

  it("cannot read the platform's environment, directly or through /proc", async () => {
    const env = await sandbox.run({ cmd: "env" });
    expect(env.stdout).toContain("RUN_TOKEN=run-token-for-sandbox");
    expect(env.stdout).not.toContain("canary-platform-secret");
    expect(env.stdout).toMatch(/^TERM=dumb$/m);
    expect(env.stdout).toMatch(new RegExp(`^HOME=${sandbox.workdir.replace(/work$/, "home")}$`, "m"));
    const proc = await sandbox.run({ cmd: "cat", args: [`/proc/${process.pid}/environ`] });
    expect(proc.stdout).not.toContain("canary-platform-secret");
    const ps = await sandbox.run({ cmd: "sh", args: ["-c", "ls /proc | grep -cE '^[0-9]+$'"] });
    expect(Number(ps.stdout.trim())).toBeLessThan(5);
  });

  it("runs in its own cgroups with the configured limits, removed on stop", async () => {
    const limited = await sandboxes.create(input());
    const cgroup = await limited.run({ cmd: "cat", args: ["/proc/self/cgroup"] });
    const pidsLine = cgroup.stdout.split("\n").find((line) => /^\d+:pids:/.test(line)) ?? "";
    const memoryLine = cgroup.stdout.split("\n").find((line) => /^\d+:memory:/.test(line)) ?? "";
    expect(pidsLine).toMatch(new RegExp(`/kiln-${limited.id}$`));
    expect(memoryLine).toMatch(new RegExp(`/kiln-${limited.id}$`));
    const cpuLine = cgroup.stdout.split("\n").find((line) => /^\d+:cpu(,cpuacct)?:/.test(line)) ?? "";
    expect(cpuLine).toMatch(new RegExp(`/kiln-${limited.id}$`));
    const cpuDir = path.join("/sys/fs/cgroup/cpu", cpuLine.split(":")[2] ?? "");
    expect(fs.readFileSync(path.join(cpuDir, "cpu.cfs_quota_us"), "utf8").trim()).toBe("200000");
    const pidsDir = path.join("/sys/fs/cgroup/pids", pidsLine.split(":")[2] ?? "");
    const memoryDir = path.join("/sys/fs/cgroup/memory", memoryLine.split(":")[2] ?? "");
    expect(fs.readFileSync(path.join(pidsDir, "pids.max"), "utf8").trim()).toBe("1024");
    expect(fs.readFileSync(path.join(memoryDir, "memory.limit_in_bytes"), "utf8").trim()).toBe(
      String(4096 * 1024 * 1024),
    );
    await limited.stop();
    expect(fs.existsSync(pidsDir)).toBe(false);
    expect(fs.existsSync(memoryDir)).toBe(false);
    expect(fs.existsSync(cpuDir)).toBe(false);
  });

  it("refuses file access through symlinks that point outside", async () => {
    await sandbox.run({ cmd: "sh", args: ["-c", "ln -s /etc etc-link; ln -s /etc/passwd passwd-link"] });
    expect((await providerErrorOf(sandbox.readFile("etc-link/passwd"))).kind).toBe("invalid");
    expect((await providerErrorOf(sandbox.readFile("passwd-link"))).kind).toBe("invalid");
    expect(
      (await providerErrorOf(sandbox.writeFiles([{ path: "etc-link/kiln-x", content: "x" }]))).kind,
    ).toBe("invalid");
    expect(fs.existsSync("/etc/kiln-x")).toBe(false);
    expect((await providerErrorOf(sandbox.run({ cmd: "true", cwd: "etc-link" }))).kind).toBe("invalid");
  });

  it("replaces a symlink on write instead of writing through it", async () => {
    const outside = path.join(tempRoot(), "outside.txt");
    fs.writeFileSync(outside, "untouched");
    fs.symlinkSync(outside, path.join(sandbox.workdir, "outside-link"));
    await sandbox.writeFiles([{ path: "outside-link", content: "replaced" }]);
    expect(fs.readFileSync(outside, "utf8")).toBe("untouched");
    expect(String(await sandbox.readFile("outside-link"))).toBe("replaced");
  });

  it("refuses a tarball whose members climb out, writing nothing outside", async () => {
    const staging = tempRoot();
    const marker = `kiln-evil-${Date.now()}`;
    fs.writeFileSync(path.join(staging, marker), "evil");
    const evil = execFileSync("tar", ["-czf", "-", "-C", staging, "--transform", "s,^,../../,", marker]);
    const error = await providerErrorOf(sandboxes.create(input({ source: { kind: "tarball", data: evil } })));
    expect(error.kind).toBe("invalid");
    expect(error.message).toContain("outside the working directory");
    expect(fs.readdirSync(root).filter((name) => name.startsWith("lsb_"))).toHaveLength(2);
  });

  it("copies source files but hard-links node_modules, so edits never reach the source", async () => {
    const source = makeSourceTree();
    try {
      const copy = await sandboxes.create(input({ source: { kind: "directory", path: source } }));
      const inode = (file: string) => fs.statSync(file).ino;
      expect(inode(path.join(copy.workdir, "node_modules/pkg/index.js"))).toBe(
        inode(path.join(source, "node_modules/pkg/index.js")),
      );
      expect(inode(path.join(copy.workdir, "src/index.js"))).not.toBe(
        inode(path.join(source, "src/index.js")),
      );
      await copy.run({ cmd: "sh", args: ["-c", "echo edited > src/index.js"] });
      await copy.writeFiles([{ path: "node_modules/pkg/index.js", content: "replaced" }]);
      expect(fs.readFileSync(path.join(source, "src/index.js"), "utf8")).toBe("console.log('index');\n");
      expect(fs.readFileSync(path.join(source, "node_modules/pkg/index.js"), "utf8")).toBe(
        "module.exports = 'pkg';\n",
      );
      await copy.stop();
    } finally {
      fs.rmSync(source, { recursive: true, force: true });
    }
  });
});

describe("local sandboxes: lifecycle", () => {
  it("stop() leaves no process behind, including daemons that left the process group", async () => {
    const sandboxes = createLocalSandboxes({ root: tempRoot() });
    const sandbox = await sandboxes.create(input());
    const marker = `kiln-marker-${process.pid}-${Date.now()}`;
    await sandbox.runDetached({ cmd: "node", args: daemonArgs(marker) });
    expect(await waitUntil(() => pidsMatching(marker).length >= 2, 5000)).toBe(true);
    await sandbox.stop();
    expect(pidsMatching(marker)).toEqual([]);
    expect(fs.existsSync(path.dirname(sandbox.workdir))).toBe(false);
  });

  it("stops itself at its timeout, killing its processes", async () => {
    const sandboxes = createLocalSandboxes({ root: tempRoot() });
    const sandbox = await sandboxes.create(input({ timeoutMs: 700 }));
    const sleeper = await sandbox.runDetached({ cmd: "sleep", args: ["60"] });
    expect(await sandbox.isAlive()).toBe(true);
    const { exitCode } = await sleeper.wait();
    expect(exitCode).not.toBe(0);
    expect(await waitUntil(async () => !(await sandbox.isAlive()), 5000)).toBe(true);
    expect(await waitUntil(() => !fs.existsSync(path.dirname(sandbox.workdir)), 5000)).toBe(true);
  });

  it("extend() pushes the timeout back", async () => {
    const sandboxes = createLocalSandboxes({ root: tempRoot() });
    // The first timeout leaves room for a loaded machine between create and extend; the wait outlasts it.
    const sandbox = await sandboxes.create(input({ timeoutMs: 1_500 }));
    await sandbox.extend(10_000);
    await sleep(2_000);
    expect(await sandbox.isAlive()).toBe(true);
    expect((await sandbox.run({ cmd: "true" })).exitCode).toBe(0);
    await sandbox.stop();
  });

  it("get() from a new adapter on the same root reattaches, and its stop() kills the old processes", async () => {
    const root = tempRoot();
    const first = createLocalSandboxes({ root });
    const original = await first.create(input({ env: { KEPT: "kept-after-restart" }, ports: [3000] }));
    await original.writeFiles([{ path: "state.txt", content: "before restart" }]);
    const marker = `kiln-restart-${process.pid}-${Date.now()}`;
    await original.runDetached({ cmd: "node", args: daemonArgs(marker) });
    expect(await waitUntil(() => pidsMatching(marker).length >= 2, 5000)).toBe(true);

    const second = createLocalSandboxes({ root });
    const reattached = await second.get(original.id);
    if (!reattached) throw new Error("expected the sandbox to be found");
    expect(reattached.workdir).toBe(original.workdir);
    expect(reattached.listenPort(3000)).toBe(original.listenPort(3000));
    expect(String(await reattached.readFile("state.txt"))).toBe("before restart");
    expect((await reattached.run({ cmd: "sh", args: ["-c", "echo $KEPT"] })).stdout).toBe(
      "kept-after-restart\n",
    );
    await reattached.stop();
    expect(pidsMatching(marker)).toEqual([]);
    expect(await original.isAlive()).toBe(false);
    expect(await second.get(original.id)).toBeNull();
  });

  it("a new platform process cleans up sandboxes that expired while none was running", async () => {
    const root = tempRoot();
    const first = createLocalSandboxes({ root });
    const expire = async () => {
      const sandbox = await first.create(input());
      const marker = `kiln-expired-${process.pid}-${Date.now()}`;
      await sandbox.runDetached({ cmd: "node", args: daemonArgs(marker) });
      expect(await waitUntil(() => pidsMatching(marker).length >= 2, 5000)).toBe(true);
      const metadataFile = path.join(path.dirname(sandbox.workdir), "sandbox.json");
      const metadata = JSON.parse(fs.readFileSync(metadataFile, "utf8"));
      fs.writeFileSync(metadataFile, JSON.stringify({ ...metadata, expiresAt: Date.now() - 1000 }));
      return { sandbox, marker };
    };
    const byGet = await expire();
    expect(await createLocalSandboxes({ root }).get(byGet.sandbox.id)).toBeNull();
    expect(fs.existsSync(path.dirname(byGet.sandbox.workdir))).toBe(false);
    expect(pidsMatching(byGet.marker)).toEqual([]);

    const byCreate = await expire();
    const fresh = await createLocalSandboxes({ root }).create(input());
    expect(fs.existsSync(path.dirname(byCreate.sandbox.workdir))).toBe(false);
    expect(pidsMatching(byCreate.marker)).toEqual([]);
    await fresh.stop();
  });

  it("keepFilesOnStop keeps the directory but the sandbox is gone", async () => {
    const sandboxes = createLocalSandboxes({ root: tempRoot(), keepFilesOnStop: true });
    const sandbox = await sandboxes.create(input());
    await sandbox.writeFiles([{ path: "kept.txt", content: "kept" }]);
    await sandbox.stop();
    expect(fs.readFileSync(path.join(sandbox.workdir, "kept.txt"), "utf8")).toBe("kept");
    expect(await sandbox.isAlive()).toBe(false);
    expect(await sandboxes.get(sandbox.id)).toBeNull();
  });

  it("hands out distinct host ports from the configured range", async () => {
    const sandboxes = createLocalSandboxes({ root: tempRoot(), portRange: [47100, 47103] });
    const a = await sandboxes.create(input({ ports: [3000, 3001] }));
    const b = await sandboxes.create(input({ ports: [3000, 3001] }));
    const ports = [a.listenPort(3000), a.listenPort(3001), b.listenPort(3000), b.listenPort(3001)];
    expect(new Set(ports).size).toBe(4);
    for (const port of ports) expect(port).toBeGreaterThanOrEqual(47100);
    const full = await providerErrorOf(sandboxes.create(input({ ports: [3000] })));
    expect(full.kind).toBe("unavailable");
    expect(full.message).toContain("no free host port");
    await Promise.all([a.stop(), b.stop()]);
    const again = await sandboxes.create(input({ ports: [3000] }));
    expect(again.listenPort(3000)).toBeGreaterThanOrEqual(47100);
    await again.stop();
  });

  it("bounds a detached command's log buffer and says what was dropped", async () => {
    const sandboxes = createLocalSandboxes({ root: tempRoot() });
    const sandbox = await sandboxes.create(input());
    const command = await sandbox.runDetached({
      cmd: "node",
      args: ["-e", "for (let i = 0; i < 3000; i++) process.stdout.write('x'.repeat(1023) + '\\n')"],
    });
    await command.wait();
    const chunks = await collectLogs(command.logs());
    const stdout = textOf(chunks, "stdout");
    expect(stdout.length).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024);
    expect(stdout.length).toBeGreaterThan(512 * 1024);
    expect(textOf(chunks, "stderr")).toMatch(/earlier log chunks were dropped/);
    await sandbox.stop();
  });
});

describe("local sandboxes: fallbacks", () => {
  it("without bubblewrap: warns once, still scrubs the environment and keeps the cwd", async () => {
    process.env.KILN_SECRET_KEY = "canary-platform-secret-plain";
    const warnings: string[] = [];
    try {
      const sandboxes = createLocalSandboxes({
        root: tempRoot(),
        bwrapPath: null,
        onWarning: (message) => warnings.push(message),
      });
      const sandbox = await sandboxes.create(input({ env: { VISIBLE: "yes" } }));
      await sandboxes.create(input()).then((other) => other.stop());
      expect(warnings.filter((w) => w.includes("plain processes without isolation"))).toHaveLength(1);
      const env = await sandbox.run({ cmd: "env" });
      expect(env.stdout).toContain("VISIBLE=yes");
      expect(env.stdout).not.toContain("canary-platform-secret");
      expect(env.stdout).toMatch(/^TERM=dumb$/m);
      expect((await sandbox.run({ cmd: "pwd" })).stdout.trim()).toBe(sandbox.workdir);
      const missing = await sandbox.run({ cmd: "kiln-no-such-command" });
      expect(missing.exitCode).toBe(127);
      await sandbox.stop();
    } finally {
      delete process.env.KILN_SECRET_KEY;
    }
  });

  it("without cgroups: applies a per-process memory rlimit through prlimit and says so", async () => {
    const warnings: string[] = [];
    const sandboxes = createLocalSandboxes({
      root: tempRoot(),
      cgroupRoot: null,
      memoryLimitMb: 2048,
      onWarning: (message) => warnings.push(message),
    });
    const sandbox = await sandboxes.create(input());
    expect(warnings.join("\n")).toContain("RLIMIT_DATA 2048 MiB per process");
    const limits = await sandbox.run({ cmd: "grep", args: ["Max data size", "/proc/self/limits"] });
    expect(limits.stdout).toContain(String(2048 * 1024 * 1024));
    await sandbox.stop();
  });

  it("refuses a bwrapPath that is not there", async () => {
    const sandboxes = createLocalSandboxes({ root: tempRoot(), bwrapPath: "/nonexistent/bwrap" });
    const error = await providerErrorOf(sandboxes.create(input()));
    expect(error.kind).toBe("invalid");
    expect(error.message).toContain("/nonexistent/bwrap");
  });

  it("refuses host paths that would expose the host", async () => {
    const root = tempRoot();
    const sandboxes = createLocalSandboxes({ root });
    for (const hostPath of ["/", path.dirname(root)]) {
      const error = await providerErrorOf(sandboxes.create(input({ hostPaths: [hostPath] })));
      expect(error.kind).toBe("invalid");
    }
  });

  it("binds a host path read-write at the same path", async () => {
    const shared = tempRoot();
    const sandboxes = createLocalSandboxes({ root: tempRoot() });
    const sandbox = await sandboxes.create(input({ hostPaths: [shared] }));
    const target = path.join(shared, "from-sandbox.txt");
    const result = await sandbox.run({ cmd: "sh", args: ["-c", `echo shared > ${target}`] });
    expect(result.exitCode).toBe(0);
    expect(fs.readFileSync(target, "utf8")).toBe("shared\n");
    await sandbox.stop();
  });

  it("shows a read-only path through a hidden directory, and refuses writes to it", async () => {
    const hidden = tempRoot("/var/tmp");
    // Like a data dir: sandboxes (their own uid) may pass through it to the toolchains, not list it.
    fs.chmodSync(hidden, 0o711);
    const cache = path.join(hidden, "toolchains");
    fs.mkdirSync(cache);
    fs.writeFileSync(path.join(cache, "tool.txt"), "v1\n");
    fs.writeFileSync(path.join(hidden, "secret.txt"), "platform only\n");
    const sandboxes = createLocalSandboxes({ root: tempRoot(), hidePaths: [hidden] });
    const sandbox = await sandboxes.create(input({ readOnlyPaths: [cache] }));
    try {
      expect((await sandbox.run({ cmd: "cat", args: [path.join(cache, "tool.txt")] })).stdout).toBe("v1\n");
      expect((await sandbox.run({ cmd: "cat", args: [path.join(hidden, "secret.txt")] })).exitCode).not.toBe(
        0,
      );
      const write = await sandbox.run({
        cmd: "sh",
        args: ["-c", `echo x > ${path.join(cache, "tool.txt")}`],
      });
      expect(write.exitCode).not.toBe(0);
      expect(fs.readFileSync(path.join(cache, "tool.txt"), "utf8")).toBe("v1\n");
    } finally {
      await sandbox.stop();
    }
  });
});
