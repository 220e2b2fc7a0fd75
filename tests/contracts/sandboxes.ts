import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProviderError } from "../../src/server/integrations/provider-error";
import type {
  CreateSandboxInput,
  LogChunk,
  Sandboxes,
  SandboxHandle,
} from "../../src/server/integrations/sandboxes/port";
import { rejectionOf } from "../helpers/errors";

/**
 * The Sandboxes contract: the same assertions for every adapter. A harness supplies the adapter and the two
 * things that differ by where sandboxes run: how this test process reaches a sandbox's `url(port)`, and which
 * declared port to use (adapters that do not remap ports need one that is free on this host).
 */
export type SandboxesHarness = {
  sandboxes: Sandboxes;
  reach(url: string): string;
  previewPort: number;
  close(): Promise<void>;
};

export async function providerErrorOf(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await rejectionOf(promise);
  if (!(error instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(error)}`);
  return error;
}

export async function collectLogs(logs: AsyncIterable<LogChunk>): Promise<LogChunk[]> {
  const chunks: LogChunk[] = [];
  for await (const chunk of logs) chunks.push(chunk);
  return chunks;
}

export function textOf(chunks: LogChunk[], stream: LogChunk["stream"]): string {
  return chunks
    .filter((chunk) => chunk.stream === stream)
    .map((chunk) => chunk.data)
    .join("");
}

/** GETs `url` until it answers (the server is starting), bounded. */
export async function fetchWhenUp(url: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return await response.text();
    } catch (error) {
      lastError = error;
      await sleep(50);
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`, { cause: lastError });
}

/** A small project tree: nested dirs, an executable, and a node_modules package. */
export function makeSourceTree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-sandbox-source-"));
  fs.mkdirSync(path.join(dir, "src"));
  fs.mkdirSync(path.join(dir, "bin"));
  fs.mkdirSync(path.join(dir, "node_modules", "pkg"), { recursive: true });
  fs.writeFileSync(path.join(dir, "README.md"), "# hello from the source\n");
  fs.writeFileSync(path.join(dir, "src", "index.js"), "console.log('index');\n");
  fs.writeFileSync(path.join(dir, "bin", "run.sh"), "#!/bin/sh\necho ran\n", { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "node_modules", "pkg", "index.js"), "module.exports = 'pkg';\n");
  return dir;
}

export function tarballOf(dir: string): Buffer {
  return execFileSync("tar", ["-czf", "-", "-C", dir, "."]);
}

function input(name: string, overrides: Partial<CreateSandboxInput> = {}): CreateSandboxInput {
  return {
    name: `${name}-${Math.random().toString(36).slice(2, 8)}`,
    source: { kind: "empty" },
    ports: [],
    env: {},
    timeoutMs: 120_000,
    ...overrides,
  };
}

export function describeSandboxesContract(label: string, setup: () => Promise<SandboxesHarness>): void {
  describe(`Sandboxes contract: ${label}`, () => {
    let harness: SandboxesHarness;
    let sandboxes: Sandboxes;
    let main: SandboxHandle;
    let sourceDir: string;
    const created: SandboxHandle[] = [];

    const create = async (overrides: Partial<CreateSandboxInput> = {}) => {
      const handle = await sandboxes.create(input(label.replace(/\W+/g, "-"), overrides));
      created.push(handle);
      return handle;
    };

    beforeAll(async () => {
      harness = await setup();
      sandboxes = harness.sandboxes;
      sourceDir = makeSourceTree();
      main = await create({
        source: { kind: "directory", path: sourceDir },
        ports: [harness.previewPort],
        env: { FROM_CREATE: "created" },
      });
    });

    afterAll(async () => {
      await Promise.allSettled(created.map((handle) => handle.stop()));
      await harness?.close();
      if (sourceDir) fs.rmSync(sourceDir, { recursive: true, force: true });
    });

    it("creates from a directory: files, nested directories and executable bits are there", async () => {
      expect(main.kind).toBe(sandboxes.kind);
      expect(path.posix.isAbsolute(main.workdir)).toBe(true);
      expect(String(await main.readFile("README.md"))).toBe("# hello from the source\n");
      const result = await main.run({
        cmd: "sh",
        args: ["-c", "cat src/index.js node_modules/pkg/index.js && ./bin/run.sh"],
      });
      expect(result).toEqual({
        exitCode: 0,
        stdout: "console.log('index');\nmodule.exports = 'pkg';\nran\n",
        stderr: "",
      });
    });

    it("creates from a gzipped tarball", async () => {
      const fromTarball = await create({ source: { kind: "tarball", data: tarballOf(sourceDir) } });
      expect(String(await fromTarball.readFile("src/index.js"))).toBe("console.log('index');\n");
      const result = await fromTarball.run({ cmd: "./bin/run.sh" });
      expect(result.stdout).toBe("ran\n");
      expect(result.exitCode).toBe(0);
    });

    it("refuses a source that is not a gzipped tarball", async () => {
      const error = await providerErrorOf(
        sandboxes.create(
          input("bad-source", { source: { kind: "tarball", data: Buffer.from("not a tarball") } }),
        ),
      );
      expect(error.kind).toBe("invalid");
      expect(error.message).toMatch(/tarball|unpacked/);
    });

    it("passes create-time and per-command env, and reports a non-zero exit as a result", async () => {
      const result = await main.run({
        cmd: "sh",
        args: ["-c", 'echo "$FROM_CREATE $FOO"; echo oops >&2; exit 3'],
        env: { FOO: "bar" },
      });
      expect(result).toEqual({ exitCode: 3, stdout: "created bar\n", stderr: "oops\n" });
    });

    it("runs commands in a cwd relative to the working directory", async () => {
      await main.writeFiles([{ path: "sub/dir/marker.txt", content: "marked" }]);
      const result = await main.run({ cmd: "sh", args: ["-c", "cat marker.txt; echo; pwd"], cwd: "sub/dir" });
      expect(result.exitCode).toBe(0);
      const [content, cwd] = result.stdout.trim().split("\n");
      expect(content).toBe("marked");
      expect(cwd).toMatch(/\/sub\/dir$/);
    });

    it("streams a detached command's logs live and from the start; wait() gives the exit code", async () => {
      const command = await main.runDetached({
        cmd: "sh",
        args: ["-c", "echo one; sleep 0.6; echo two >&2; exit 4"],
      });
      expect(command.id).toEqual(expect.any(String));
      let finished = false;
      const waited = command.wait().then((result) => {
        finished = true;
        return result;
      });
      const live: LogChunk[] = [];
      let finishedWhenFirstSeen: boolean | undefined;
      for await (const chunk of command.logs()) {
        finishedWhenFirstSeen ??= finished;
        live.push(chunk);
      }
      expect(finishedWhenFirstSeen).toBe(false);
      expect(textOf(live, "stdout")).toBe("one\n");
      expect(textOf(live, "stderr")).toBe("two\n");
      expect(await waited).toEqual({ exitCode: 4 });
      const replay = await collectLogs(command.logs());
      expect(textOf(replay, "stdout")).toBe("one\n");
      expect(textOf(replay, "stderr")).toBe("two\n");
    });

    it("kills a detached command with SIGTERM", async () => {
      const command = await main.runDetached({ cmd: "sleep", args: ["30"] });
      const started = Date.now();
      await command.kill();
      // 128 + SIGTERM: the command was asked to stop (and could clean up), not SIGKILLed after a grace period.
      expect(await command.wait()).toEqual({ exitCode: 143 });
      // The exit code tells SIGTERM from the SIGKILL after the grace period; this bound is only against a hang.
      expect(Date.now() - started).toBeLessThan(10_000);
    });

    it("round-trips text and binary files, overwriting, visible to commands", async () => {
      const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await main.writeFiles([
        { path: "a/b/c.txt", content: "one" },
        { path: "data.bin", content: binary },
      ]);
      expect(String(await main.readFile("a/b/c.txt"))).toBe("one");
      expect(await main.readFile("data.bin")).toEqual(binary);
      await main.writeFiles([{ path: "a/b/c.txt", content: Buffer.from("two") }]);
      expect(String(await main.readFile("./a/b/c.txt"))).toBe("two");
      expect((await main.run({ cmd: "cat", args: ["a/b/c.txt"] })).stdout).toBe("two");
      await main.run({ cmd: "sh", args: ["-c", "echo made-inside > inside.txt"] });
      expect(String(await main.readFile("inside.txt"))).toBe("made-inside\n");
    });

    it("reads a missing file as null", async () => {
      expect(await main.readFile("does/not/exist.txt")).toBeNull();
    });

    it("refuses paths outside the working directory", async () => {
      for (const outside of ["../x", "/etc/passwd", "a/../../x"]) {
        const write = await providerErrorOf(main.writeFiles([{ path: outside, content: "x" }]));
        expect(write.kind).toBe("invalid");
        expect(write.message).toContain("outside the sandbox's working directory");
        expect((await providerErrorOf(main.readFile(outside))).kind).toBe("invalid");
      }
      expect((await providerErrorOf(main.run({ cmd: "true", cwd: "../" }))).kind).toBe("invalid");
    });

    it("serves a process listening on listenHost:listenPort(p) at url(p)", async () => {
      const port = harness.previewPort;
      const server = await main.runDetached({
        cmd: "node",
        args: [
          "-e",
          "require('http').createServer((q,s)=>s.end('ok')).listen(Number(process.env.PORT), process.env.HOST)",
        ],
        env: { PORT: String(main.listenPort(port)), HOST: main.listenHost },
      });
      try {
        expect(main.url(port)).toMatch(/^https?:\/\//);
        expect(await fetchWhenUp(harness.reach(main.url(port)))).toBe("ok");
      } finally {
        await server.kill();
      }
      const undeclared = port === 65000 ? 65001 : 65000;
      expect(() => main.url(undeclared)).toThrow(ProviderError);
      expect(() => main.listenPort(undeclared)).toThrow(ProviderError);
    });

    it("reattaches with get() and answers null for unknown ids", async () => {
      const again = await sandboxes.get(main.id);
      expect(again?.id).toBe(main.id);
      expect(again?.workdir).toBe(main.workdir);
      expect(String(await again?.readFile("README.md"))).toBe("# hello from the source\n");
      expect(await sandboxes.get("lsb_00000000000000000000")).toBeNull();
      expect(await sandboxes.get("no-such-sandbox")).toBeNull();
    });

    it("extends a live sandbox", async () => {
      await main.extend(60_000);
      expect(await main.isAlive()).toBe(true);
    });

    it("snapshots: without the capability a snapshot source is unsupported; with it, a round trip", async () => {
      const snapshot = sandboxes.snapshot?.bind(sandboxes);
      if (!snapshot) {
        const refused = await providerErrorOf(
          sandboxes.create(input("from-snapshot", { source: { kind: "snapshot", snapshotId: "snap_x" } })),
        );
        expect(refused.kind).toBe("unsupported");
        expect(refused.message).toMatch(/snapshot/);
        return;
      }
      const original = await create({ source: { kind: "directory", path: sourceDir } });
      await original.writeFiles([{ path: "made/before-snapshot.txt", content: "saved" }]);
      const saved = await snapshot(original);
      expect(saved.snapshotId).toEqual(expect.any(String));
      // Taking a snapshot stops the sandbox (Vercel's behaviour, promised by the port).
      expect(await original.isAlive()).toBe(false);
      expect(await sandboxes.getSnapshot?.(saved.snapshotId)).toMatchObject({ snapshotId: saved.snapshotId });

      const restored = await create({ source: { kind: "snapshot", snapshotId: saved.snapshotId } });
      expect(String(await restored.readFile("made/before-snapshot.txt"))).toBe("saved");
      expect((await restored.run({ cmd: "./bin/run.sh" })).stdout).toBe("ran\n");

      await sandboxes.deleteSnapshot?.(saved.snapshotId);
      await sandboxes.deleteSnapshot?.(saved.snapshotId);
      expect(await sandboxes.getSnapshot?.(saved.snapshotId)).toBeNull();
      const gone = await providerErrorOf(
        sandboxes.create(
          input("from-deleted", { source: { kind: "snapshot", snapshotId: saved.snapshotId } }),
        ),
      );
      expect(gone.kind).toBe("not_found");
      expect(gone.message).toMatch(/snapshot/i);
    });

    it("stops idempotently: not alive, commands refused, get() finds nothing, running commands end", async () => {
      const doomed = await create();
      const sleeper = await doomed.runDetached({ cmd: "sleep", args: ["60"] });
      expect(await doomed.isAlive()).toBe(true);
      await doomed.stop();
      await doomed.stop();
      expect(await doomed.isAlive()).toBe(false);
      expect((await providerErrorOf(doomed.run({ cmd: "true" }))).kind).toBe("conflict");
      expect((await providerErrorOf(doomed.writeFiles([{ path: "x", content: "x" }]))).kind).toBe("conflict");
      expect(await sandboxes.get(doomed.id)).toBeNull();
      expect((await sleeper.wait()).exitCode).not.toBe(0);
    });
  });
}
