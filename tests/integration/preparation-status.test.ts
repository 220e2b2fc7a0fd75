import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { afterAll, describe, expect, it } from "vitest";
import { PreparationNotice, preparationNoticeVisible } from "@/components/projects/preparation-notice";
import { cachePaths } from "@/server/platform/cache-paths";
import { writePreparationRecord } from "@/server/preparation/preparation-record";
import { readPreparationStatus } from "@/server/preparation/preparation-status";
import type { PreparationStatus } from "@/server/preparation/preparation-types";
import { type CachePaths, preparationOrder, prepareCaches } from "@/server/preparation/prepare-caches";
import { templateVersion } from "@/server/templates/template-version";
import { toolchainSpec } from "@/server/toolchains/toolchain-spec";

// What the dashboard says about the boot preparation, from what a data dir holds: the caches' completion markers,
// the installs' locks and the preparer's records, as any app server sharing the data dir reads them.

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function freshPaths(): CachePaths {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-prep-status-"));
  dirs.push(dataDir);
  return cachePaths(dataDir);
}

const status = (paths: CachePaths) => readPreparationStatus(paths, preparationOrder);
const states = (s: PreparationStatus) => Object.fromEntries(s.items.map((item) => [item.thing, item.state]));
const noticeOf = (s: PreparationStatus) => renderToString(createElement(PreparationNotice, { initial: s }));

/** A lock as an install holds it (dir-lock.ts): a directory whose owner file names host and pid. */
function holdLock(lockDir: string, pid = process.pid, host = os.hostname()): void {
  fs.mkdirSync(lockDir, { recursive: true });
  fs.writeFileSync(path.join(lockDir, "owner"), `${host}:${pid}`);
}

/** A record as another process wrote it. */
function foreignRecord(paths: CachePaths, thing: string, record: object): void {
  fs.mkdirSync(paths.preparationDir, { recursive: true });
  fs.writeFileSync(path.join(paths.preparationDir, `${thing}.json`), JSON.stringify(record));
}

/** A pid that is certainly not running: a process that has exited. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ["-e", "0"]);
  if (typeof pid !== "number") throw new Error("no pid");
  return pid;
}

/** A complete toolchain install as install.ts leaves it: marker and an executable bin. */
function installedToolchain(paths: CachePaths, agent: "codex" | "claude-code"): void {
  const spec = toolchainSpec(agent);
  const dir = path.join(paths.toolchainsRoot, `${agent}-${spec.version}`);
  fs.mkdirSync(path.join(dir, "node_modules", ".bin"), { recursive: true });
  fs.writeFileSync(path.join(dir, "node_modules", ".bin", spec.bin), "#!/bin/sh\n", { mode: 0o755 });
  fs.writeFileSync(
    path.join(dir, ".kiln-toolchain.json"),
    JSON.stringify({
      agent,
      package: spec.package,
      version: spec.version,
      bin: spec.bin,
      installedAt: new Date().toISOString(),
      installMs: 1,
      sizeBytes: 1,
    }),
  );
}

describe("the preparation status the dashboard shows", () => {
  it("says nothing for a data dir nobody prepares", async () => {
    const s = await status(freshPaths());
    expect(states(s)).toEqual({ template: "missing", codex: "missing", "claude-code": "missing" });
    expect(preparationNoticeVisible(s)).toBe(false);
    expect(noticeOf(s)).toBe("");
  });

  it("shows what a live process installs now and what comes next", async () => {
    const paths = freshPaths();
    const version = await templateVersion(paths.templateDir);
    holdLock(path.join(paths.templateCacheRoot, `.lock-nextjs-app-${version}`));
    holdLock(path.join(paths.toolchainsRoot, `.lock-codex-${toolchainSpec("codex").version}`));
    await writePreparationRecord(paths.preparationDir, "claude-code", { state: "waiting" });
    const s = await status(paths);
    expect(states(s)).toEqual({ template: "preparing", codex: "preparing", "claude-code": "waiting" });
    expect(preparationNoticeVisible(s)).toBe(true);
    const html = noticeOf(s);
    expect(html).toContain("Installing what builds need");
    expect(html).toContain("Preparing the app template&#x27;s dependencies…");
    expect(html).toContain("Preparing the Codex CLI…");
    expect(html).toContain("The Claude Code CLI: next");
  });

  it("does not repeat news from a process that is gone", async () => {
    const paths = freshPaths();
    const gone = deadPid();
    holdLock(path.join(paths.toolchainsRoot, `.lock-codex-${toolchainSpec("codex").version}`), gone);
    const record = { state: "preparing", since: Date.now(), writer: `${os.hostname()}:${gone}` };
    foreignRecord(paths, "template", record);
    foreignRecord(paths, "claude-code", { ...record, state: "waiting" });
    const s = await status(paths);
    expect(states(s)).toEqual({ template: "missing", codex: "missing", "claude-code": "missing" });
    expect(preparationNoticeVisible(s)).toBe(false);
  });

  it("believes another host's record while it is recent", async () => {
    const paths = freshPaths();
    foreignRecord(paths, "template", { state: "preparing", since: Date.now(), writer: "other-host:1" });
    foreignRecord(paths, "codex", {
      state: "preparing",
      since: Date.now() - 2 * 3_600_000,
      writer: "other-host:1",
    });
    expect(states(await status(paths))).toMatchObject({ template: "preparing", codex: "missing" });
  });

  it("shows a failure and why, until the thing is installed after all", async () => {
    const paths = freshPaths();
    await writePreparationRecord(paths.preparationDir, "codex", {
      state: "failed",
      error: "Installing Codex 0.169.0 failed: npm install exited with 1.",
    });
    const failed = await status(paths);
    expect(failed.items.find((item) => item.thing === "codex")).toMatchObject({
      state: "failed",
      label: "the Codex CLI",
      error: "Installing Codex 0.169.0 failed: npm install exited with 1.",
    });
    expect(preparationNoticeVisible(failed)).toBe(true);
    const html = noticeOf(failed);
    expect(html).toContain("Preparing the Codex CLI failed; the first build that needs it tries again.");
    expect(html).toContain("npm install exited with 1.");
    expect(html).toContain("Check that this server reaches the npm registry.");

    // A build installed it later: what is on disk outranks the old record.
    installedToolchain(paths, "codex");
    const fixed = await status(paths);
    expect(states(fixed).codex).toBe("ready");
    expect(preparationNoticeVisible(fixed)).toBe(false);
  });

  it("is ready, and gone from the dashboard, once every cache is complete", async () => {
    const paths = freshPaths();
    const version = await templateVersion(paths.templateDir);
    fs.mkdirSync(paths.templateCacheRoot, { recursive: true });
    fs.writeFileSync(path.join(paths.templateCacheRoot, `nextjs-app-${version}.ready`), "{}");
    for (const agent of preparationOrder) installedToolchain(paths, agent);
    const s = await status(paths);
    expect(states(s)).toEqual({ template: "ready", codex: "ready", "claude-code": "ready" });
    expect(noticeOf(s)).toBe("");
  });

  it("records a failed preparation for the dashboard and never throws", async () => {
    const paths = freshPaths();
    // A template whose lockfile does not match its manifest: `npm ci` refuses it at once, offline.
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-broken-template-"));
    dirs.push(broken);
    fs.writeFileSync(
      path.join(broken, "package.json"),
      JSON.stringify({ name: "broken", version: "1.0.0", dependencies: { "left-pad": "1.3.0" } }),
    );
    fs.writeFileSync(
      path.join(broken, "package-lock.json"),
      JSON.stringify({ name: "broken", version: "1.0.0", lockfileVersion: 3, requires: true, packages: {} }),
    );
    const logged: string[] = [];
    const outcome = await prepareCaches({
      ...paths,
      templateDir: broken,
      agents: [],
      log: (message) => logged.push(message),
    });
    expect(outcome).toEqual({ prepared: [], failed: ["template"] });
    expect(logged.some((line) => line.startsWith("preparing template failed"))).toBe(true);
    const s = await readPreparationStatus({ ...paths, templateDir: broken }, []);
    expect(s.items).toEqual([
      expect.objectContaining({
        thing: "template",
        state: "failed",
        error: expect.stringContaining("Installing the template's dependencies failed"),
      }),
    ]);
  });
});
