import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Sandboxes, SandboxHandle } from "../../../src/server/integrations/sandboxes/port";
import { createVercelSandboxes } from "../../../src/server/integrations/sandboxes/vercel";
import { createTemplateSandbox } from "../../../src/server/templates/template-sandbox";
import { templateFiles, templateVersion } from "../../../src/server/templates/template-version";
import {
  type BakePlan,
  type BakeStep,
  bakedBinPath,
  defaultBakeSteps,
} from "../../../src/server/templates/vercel-snapshot-bake";
import { readSnapshotRegistry } from "../../../src/server/templates/vercel-snapshot-registry";
import {
  createVercelTemplateSandbox,
  type EnsureVercelTemplateSnapshotOptions,
  ensureVercelTemplateSnapshot,
  VercelTemplateSnapshotError,
} from "../../../src/server/templates/vercel-template-snapshot";
import { toolchains } from "../../../src/server/toolchains/versions";
import type { FakeInterceptor } from "../../fakes/http";
import { type FakeVercelSandbox, startFakeVercelSandbox } from "../../fakes/vercel-sandbox";
import { rejectionOf } from "../../helpers/errors";

// Warm start on Vercel: the template installed once per (template version, agent CLI versions, team/project) into
// a snapshot, against the Vercel Sandbox fake (commands really run, so `npm ci` really installs). The fixture
// template is tiny: one dependency, a local tarball, so no registry is needed. The agent CLIs are baked by small
// stand-in steps (a script that prints the pinned version); the real steps are checked as argv.

const token = "vcp_TemplateSnapshotToken_93ab1";
const teamId = "team_tpl";
const projectId = "prj_tpl";
const scope = `${teamId}/${projectId}`;
const codex = toolchains.codex;
const claude = toolchains["claude-code"];

const roots: string[] = [];
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  roots.push(dir);
  return dir;
}

/** A template like templates/nextjs-app in miniature: app.json, sources, a lockfile and one dependency. */
function makeFixtureTemplate(): string {
  const root = tempDir("kiln-snap-fixture-");
  const dep = path.join(root, "dep-src");
  const template = path.join(root, "fixture-app");
  fs.mkdirSync(dep);
  fs.mkdirSync(path.join(template, "vendor"), { recursive: true });
  fs.mkdirSync(path.join(template, "src"));
  fs.writeFileSync(
    path.join(dep, "package.json"),
    JSON.stringify({ name: "local-dep", version: "1.0.0", main: "index.js" }),
  );
  fs.writeFileSync(path.join(dep, "index.js"), 'module.exports = "local-dep works";\n');
  const env = { ...process.env, npm_config_update_notifier: "false", npm_config_loglevel: "error" };
  execFileSync("npm", ["pack", "--pack-destination", path.join(template, "vendor")], { cwd: dep, env });
  fs.writeFileSync(
    path.join(template, "package.json"),
    `${JSON.stringify({ name: "fixture-app", version: "0.0.0", private: true, dependencies: { "local-dep": "file:vendor/local-dep-1.0.0.tgz" } }, null, 2)}\n`,
  );
  execFileSync("npm", ["install", "--package-lock-only", "--no-audit", "--no-fund"], { cwd: template, env });
  fs.writeFileSync(path.join(template, "app.json"), `${JSON.stringify({ name: "Template App" }, null, 2)}\n`);
  fs.writeFileSync(path.join(template, "src", "page.txt"), "the page\n");
  fs.writeFileSync(path.join(template, ".gitignore"), "node_modules/\n");
  return template;
}

/** Stand-in for the real installs: writes a CLI that prints the pinned version, then checks it like the real one. */
function fakeBake(plan: BakePlan): BakeStep[] {
  return plan.toolchains.flatMap((spec) => {
    const bin = bakedBinPath(plan.toolchainRoot, spec);
    const script =
      "const fs=require('fs'),p=require('path');const [bin,v]=process.argv.slice(1);" +
      "fs.mkdirSync(p.dirname(bin),{recursive:true});fs.writeFileSync(bin,'#!/bin/sh\\necho '+v+'\\n',{mode:0o755});";
    return [
      {
        label: `installing ${spec.label} ${spec.version}`,
        command: { cmd: "node", args: ["-e", script, bin, spec.version] },
      },
      {
        label: `checking ${spec.label} ${spec.version}`,
        command: { cmd: bin, args: ["--version"] },
        expectOutput: new RegExp(spec.version.replaceAll(".", "\\.")),
      },
    ];
  });
}

const createCalls = (fake: FakeVercelSandbox, from = 0) =>
  fake.requests
    .slice(from)
    .filter((request) => request.method === "POST" && request.path.startsWith("/v3/sandboxes?"));
const buildCalls = (fake: FakeVercelSandbox, from = 0) =>
  createCalls(fake, from).filter((request) => JSON.parse(request.body).name?.startsWith("kiln-snapshot-"));
const cmdBodies = (fake: FakeVercelSandbox, from = 0) =>
  fake.requests
    .slice(from)
    .filter((request) => request.method === "POST" && /\/sessions\/[^/]+\/cmd\?/.test(request.path))
    .map((request): { command: string; args: string[] } => JSON.parse(request.body));

describe("Vercel template snapshot (fake Vercel)", { timeout: 60_000 }, () => {
  let fake: FakeVercelSandbox;
  let fault: FakeInterceptor | undefined;
  let sandboxes: Sandboxes;
  let template: string;
  const created: SandboxHandle[] = [];

  beforeAll(async () => {
    fake = await startFakeVercelSandbox({ token, teamId, projectId, intercept: (r) => fault?.(r) });
    sandboxes = createVercelSandboxes({ token, teamId, projectId, fetch: fake.fetch });
    template = makeFixtureTemplate();
  });
  beforeEach(() => {
    fault = undefined;
  });
  afterAll(async () => {
    await Promise.allSettled(created.map((sandbox) => sandbox.stop()));
    await fake?.close();
    for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
  });

  const options = (
    registryPath: string,
    overrides: Partial<EnsureVercelTemplateSnapshotOptions> = {},
  ): EnsureVercelTemplateSnapshotOptions => ({
    sandboxes,
    templateDir: template,
    registryPath,
    scope,
    bakeSteps: fakeBake,
    ...overrides,
  });
  const newRegistry = () => path.join(tempDir("kiln-snap-data-"), "templates", "vercel-snapshots.json");

  it("builds once: npm ci and the CLIs in one sandbox, snapshotted and recorded; the next call reuses it", async () => {
    const registryPath = newRegistry();
    const progress: string[] = [];
    const before = fake.requests.length;
    const first = await ensureVercelTemplateSnapshot(
      options(registryPath, { onProgress: (message) => progress.push(message) }),
    );
    const version = await templateVersion(template);
    expect(first).toMatchObject({ version, built: true, snapshotId: expect.stringMatching(/^snap_/) });
    expect(buildCalls(fake, before)).toHaveLength(1);
    const commands = cmdBodies(fake, before).map((body) => [body.command, ...body.args].join(" "));
    expect(commands).toContain("npm ci --no-audit --no-fund");
    expect(commands.filter((line) => line.endsWith(" --version"))).toHaveLength(2);
    const short = version.slice(0, 8);
    expect(progress).toEqual(
      expect.arrayContaining([
        `Building the Vercel snapshot for template fixture-app ${short}: uploading the template…`,
        `Building the Vercel snapshot for template fixture-app ${short}: installing dependencies (npm ci)…`,
        `Building the Vercel snapshot for template fixture-app ${short}: installing Codex ${codex.version}…`,
        `Building the Vercel snapshot for template fixture-app ${short}: saving the snapshot…`,
      ]),
    );
    expect(progress.at(-1)).toMatch(/^Vercel snapshot for template fixture-app \w{8} ready in \d+ s\.$/);
    // The build sandbox was stopped by the snapshot, not left running.
    const buildName: string = JSON.parse(buildCalls(fake, before)[0]?.body ?? "{}").name;
    expect(fake.statusOf(buildName)).toBe("stopped");

    const registry = await readSnapshotRegistry(registryPath);
    expect(registry).toEqual([
      expect.objectContaining({
        scope,
        template: "fixture-app",
        templateVersion: version,
        snapshotId: first.snapshotId,
        toolchains: [
          expect.objectContaining({ agent: "codex", package: "@openai/codex", version: codex.version }),
          expect.objectContaining({ agent: "claude-code", package: claude.package, version: claude.version }),
        ],
      }),
    ]);
    expect(first.toolchains.map((t) => t.binPath)).toEqual([
      expect.stringMatching(
        new RegExp(`/\\.kiln/toolchains/codex-${codex.version}/node_modules/\\.bin/codex$`),
      ),
      expect.stringMatching(/\/\.kiln\/toolchains\/claude-code-[\d.]+\/node_modules\/\.bin\/claude$/),
    ]);

    const again = fake.requests.length;
    const progressAgain: string[] = [];
    const second = await ensureVercelTemplateSnapshot(
      options(registryPath, { onProgress: (message) => progressAgain.push(message) }),
    );
    expect(second).toEqual({ ...first, built: false });
    expect(createCalls(fake, again)).toHaveLength(0);
    // One cheap liveness check, nothing else.
    expect(fake.requests.slice(again).map((r) => `${r.method} ${r.path.split("?")[0]}`)).toEqual([
      `GET /v2/sandboxes/snapshots/${first.snapshotId}`,
    ]);
    expect(progressAgain).toEqual([]);
  });

  it("a sandbox from the snapshot has the installed app, the baked CLIs, the app's name, and nothing of Kiln's in the working copy", async () => {
    const snapshot = await ensureVercelTemplateSnapshot(options(newRegistry()));
    const before = fake.requests.length;
    const sandbox = await createTemplateSandbox(sandboxes, snapshot, {
      name: `app-${Date.now()}`,
      env: {},
      timeoutMs: 120_000,
      app: { name: "Quokka Quotes", description: "Quotes from small marsupials" },
    });
    created.push(sandbox);
    expect(JSON.parse(createCalls(fake, before)[0]?.body ?? "{}")).toMatchObject({
      source: { type: "snapshot", snapshotId: snapshot.snapshotId },
      ports: [3000],
    });
    // No npm ci, no upload: the install came with the snapshot.
    expect(cmdBodies(fake, before)).toEqual([]);
    expect(JSON.parse(String(await sandbox.readFile("app.json")))).toEqual({
      name: "Quokka Quotes",
      description: "Quotes from small marsupials",
    });
    const required = await sandbox.run({ cmd: "node", args: ["-p", "require('local-dep')"] });
    expect(required).toMatchObject({ exitCode: 0, stdout: "local-dep works\n" });
    for (const spec of [codex, claude]) {
      const cli = await sandbox.run({
        cmd: "sh",
        args: [
          "-c",
          `"$HOME/.kiln/toolchains/${spec.agent}-${spec.version}/node_modules/.bin/${spec.bin}" --version`,
        ],
      });
      expect(cli.stdout.trim()).toBe(spec.version);
    }
    const listed = await sandbox.run({
      cmd: "find",
      args: [".", "-path", "./node_modules", "-prune", "-o", "-type", "f", "-print"],
    });
    const workingCopy = listed.stdout
      .trim()
      .split("\n")
      .map((file) => file.replace(/^\.\//, ""))
      .sort();
    expect(workingCopy).toEqual(await templateFiles(template));
  });

  it("a changed template is a new snapshot; this team's old one is deleted and dropped, another team's kept", async () => {
    const registryPath = newRegistry();
    const changing = path.join(tempDir("kiln-snap-changing-"), "fixture-app");
    fs.cpSync(template, changing, { recursive: true });
    const old = await ensureVercelTemplateSnapshot(options(registryPath, { templateDir: changing }));
    const otherTeam = await ensureVercelTemplateSnapshot(
      options(registryPath, { templateDir: changing, scope: "team_other/prj_other" }),
    );
    expect(otherTeam.snapshotId).not.toBe(old.snapshotId);

    fs.writeFileSync(path.join(changing, "src", "page.txt"), "the page, changed\n");
    const before = fake.requests.length;
    const changed = await ensureVercelTemplateSnapshot(options(registryPath, { templateDir: changing }));
    expect(changed.built).toBe(true);
    expect(changed.version).not.toBe(old.version);
    expect(changed.snapshotId).not.toBe(old.snapshotId);
    expect(buildCalls(fake, before)).toHaveLength(1);
    const status = (id: string) => fake.snapshots().find((s) => s.id === id)?.status;
    expect(status(old.snapshotId)).toBe("deleted");
    expect(status(otherTeam.snapshotId)).toBe("created");
    const registry = await readSnapshotRegistry(registryPath);
    expect(registry.map((e) => [e.scope, e.snapshotId]).sort()).toEqual(
      [
        [scope, changed.snapshotId],
        ["team_other/prj_other", otherTeam.snapshotId],
      ].sort(),
    );

    const sandbox = await createTemplateSandbox(sandboxes, changed, {
      name: `changed-${Date.now()}`,
      env: {},
      timeoutMs: 60_000,
      app: { name: "Changed" },
    });
    created.push(sandbox);
    expect(String(await sandbox.readFile("src/page.txt"))).toBe("the page, changed\n");
  });

  it("a changed CLI version is a new key too", async () => {
    const registryPath = newRegistry();
    const first = await ensureVercelTemplateSnapshot(options(registryPath, { toolchains: [codex] }));
    const bumped = { ...codex, version: "0.169.1" };
    const second = await ensureVercelTemplateSnapshot(options(registryPath, { toolchains: [bumped] }));
    expect(second.built).toBe(true);
    expect(second.toolchains).toEqual([expect.objectContaining({ version: "0.169.1" })]);
    expect(fake.snapshots().find((s) => s.id === first.snapshotId)?.status).toBe("deleted");
    expect((await readSnapshotRegistry(registryPath)).map((e) => e.snapshotId)).toEqual([second.snapshotId]);
  });

  it("a snapshot Vercel reports gone (expired) is built again, once, and replaces the entry", async () => {
    const registryPath = newRegistry();
    const first = await ensureVercelTemplateSnapshot(options(registryPath));
    fake.expireSnapshot(first.snapshotId);
    const progress: string[] = [];
    const before = fake.requests.length;
    const rebuilt = await ensureVercelTemplateSnapshot(
      options(registryPath, { onProgress: (message) => progress.push(message) }),
    );
    expect(rebuilt.built).toBe(true);
    expect(rebuilt.snapshotId).not.toBe(first.snapshotId);
    expect(buildCalls(fake, before)).toHaveLength(1);
    expect(progress[0]).toMatch(/has expired or was deleted; building it again\.$/);
    expect((await readSnapshotRegistry(registryPath)).map((e) => e.snapshotId)).toEqual([rebuilt.snapshotId]);
  });

  it("a snapshot that vanishes between the check and the create (410) is rebuilt once and the create retried", async () => {
    const registryPath = newRegistry();
    const first = await ensureVercelTemplateSnapshot(options(registryPath));
    fake.expireSnapshot(first.snapshotId);
    // Vercel still answers the lookup as live (the expiry lands right after it): only the create sees it gone.
    fault = (request) =>
      request.method === "GET" && request.path.startsWith(`/v2/sandboxes/snapshots/${first.snapshotId}`)
        ? {
            status: 200,
            json: {
              snapshot: {
                id: first.snapshotId,
                sourceSessionId: "sbx_x",
                region: "iad1",
                status: "created",
                sizeBytes: 1,
                createdAt: Date.now(),
                updatedAt: Date.now(),
              },
            },
          }
        : undefined;
    const before = fake.requests.length;
    const { sandbox, snapshot } = await createVercelTemplateSandbox(options(registryPath), {
      name: `retried-${Date.now()}`,
      env: {},
      timeoutMs: 60_000,
      app: { name: "Retried" },
    });
    created.push(sandbox);
    expect(snapshot.built).toBe(true);
    expect(snapshot.snapshotId).not.toBe(first.snapshotId);
    expect(buildCalls(fake, before)).toHaveLength(1);
    expect(JSON.parse(String(await sandbox.readFile("app.json"))).name).toBe("Retried");
    expect((await readSnapshotRegistry(registryPath)).map((e) => e.snapshotId)).toEqual([
      snapshot.snapshotId,
    ]);
  });

  it("concurrent callers wait for one build (directory lock) and get the same snapshot", async () => {
    const registryPath = newRegistry();
    const before = fake.requests.length;
    const results = await Promise.all([
      ensureVercelTemplateSnapshot(options(registryPath)),
      ensureVercelTemplateSnapshot(options(registryPath)),
      ensureVercelTemplateSnapshot(options(registryPath)),
    ]);
    expect(buildCalls(fake, before)).toHaveLength(1);
    expect(new Set(results.map((r) => r.snapshotId)).size).toBe(1);
    expect(results.filter((r) => r.built)).toHaveLength(1);
    expect(await readSnapshotRegistry(registryPath)).toHaveLength(1);
  });

  it("a failing step fails with its output, stops the build sandbox and records nothing", async () => {
    const registryPath = newRegistry();
    const before = fake.requests.length;
    const error = await rejectionOf(
      ensureVercelTemplateSnapshot(
        options(registryPath, {
          bakeSteps: () => [
            {
              label: "installing Broken 1.0.0",
              command: { cmd: "sh", args: ["-c", "echo no such package >&2; exit 3"] },
            },
          ],
        }),
      ),
    );
    expect(error).toBeInstanceOf(VercelTemplateSnapshotError);
    expect(String(error)).toContain("installing Broken 1.0.0 exited with 3");
    expect(String(error)).toContain("no such package");
    const buildName: string = JSON.parse(buildCalls(fake, before)[0]?.body ?? "{}").name;
    expect(fake.statusOf(buildName)).toBe("stopped");
    expect(fs.existsSync(registryPath)).toBe(false);

    const wrongVersion = await rejectionOf(
      ensureVercelTemplateSnapshot(
        options(registryPath, {
          bakeSteps: () => [
            { label: "checking Codex", command: { cmd: "echo", args: ["0.1.0"] }, expectOutput: /0\.169\.0/ },
          ],
        }),
      ),
    );
    expect(String(wrongVersion)).toMatch(/checking Codex printed "0\.1\.0", not what was expected/);
  });

  it("by default bakes the pinned CLIs with npm install, exact versions, as argv", async () => {
    const plan = { toolchainRoot: "/home/vercel-sandbox/.kiln/toolchains", toolchains: [codex, claude] };
    const steps = defaultBakeSteps(plan);
    const installs = steps.filter((step) => step.command.cmd === "npm");
    expect(installs.map((step) => step.command.args)).toEqual([
      [
        "install",
        "--prefix",
        `/home/vercel-sandbox/.kiln/toolchains/codex-${codex.version}`,
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        "--include=optional",
        "--omit=dev",
        "--save-exact",
        "--no-update-notifier",
        "--loglevel=warn",
        `@openai/codex@${codex.version}`,
      ],
      [
        "install",
        "--prefix",
        `/home/vercel-sandbox/.kiln/toolchains/claude-code-${claude.version}`,
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        "--include=optional",
        "--omit=dev",
        "--save-exact",
        "--no-update-notifier",
        "--loglevel=warn",
        `@anthropic-ai/claude-code@${claude.version}`,
      ],
    ]);
    // Exact versions, never ranges.
    for (const spec of [codex, claude]) expect(spec.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(steps.map((step) => [step.command.cmd, ...(step.command.args ?? [])].join(" "))).toContain(
      `node /home/vercel-sandbox/.kiln/toolchains/claude-code-${claude.version}/node_modules/@anthropic-ai/claude-code/install.cjs`,
    );
    const checks = steps.filter((step) => step.command.args?.[0] === "--version");
    expect(checks.map((step) => step.command.cmd)).toEqual([
      `/home/vercel-sandbox/.kiln/toolchains/codex-${codex.version}/node_modules/.bin/codex`,
      `/home/vercel-sandbox/.kiln/toolchains/claude-code-${claude.version}/node_modules/.bin/claude`,
    ]);
    expect(checks[0]?.expectOutput?.test(`codex-cli ${codex.version}`)).toBe(true);
    expect(checks[0]?.expectOutput?.test(`codex-cli ${codex.version}1`)).toBe(false);

    // And ensure really runs them when not told otherwise: the first one reaches the sandbox as this argv.
    const registryPath = newRegistry();
    fault = (request) =>
      request.path.includes("/cmd?") && request.body.includes('"command":"npm","args":["install"')
        ? { status: 400, json: { error: { code: "bad_request", message: "stopped here by the test" } } }
        : undefined;
    const before = fake.requests.length;
    const error = await rejectionOf(
      ensureVercelTemplateSnapshot(options(registryPath, { bakeSteps: undefined })),
    );
    expect(String(error)).toContain("stopped here by the test");
    const home = cmdBodies(fake, before).find((body) => body.command === "node")?.args;
    expect(home).toEqual(["-p", "require('node:os').homedir()"]);
    const install = fake.requests
      .slice(before)
      .map((request) => request.body)
      .find((body) => body.includes('"command":"npm","args":["install"'));
    expect(JSON.parse(install ?? "{}").args).toEqual([
      "install",
      "--prefix",
      expect.stringMatching(new RegExp(`/home/vercel-sandbox/\\.kiln/toolchains/codex-${codex.version}$`)),
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      "--include=optional",
      "--omit=dev",
      "--save-exact",
      "--no-update-notifier",
      "--loglevel=warn",
      `@openai/codex@${codex.version}`,
    ]);
    expect(fs.existsSync(registryPath)).toBe(false);
  });

  it("a sandboxes without the snapshot capability is refused as unsupported", async () => {
    const { createLocalSandboxes } = await import("../../../src/server/integrations/sandboxes/local");
    const error = await rejectionOf(
      ensureVercelTemplateSnapshot(
        options(newRegistry(), { sandboxes: createLocalSandboxes({ root: tempDir("kiln-snap-local-") }) }),
      ),
    );
    expect(error).toMatchObject({ kind: "unsupported" });
  });

  it("an invalid registry is reported with what to do, not silently overwritten", async () => {
    const registryPath = newRegistry();
    fs.mkdirSync(path.dirname(registryPath), { recursive: true });
    fs.writeFileSync(registryPath, "{not json");
    const error = await rejectionOf(ensureVercelTemplateSnapshot(options(registryPath)));
    expect(String(error)).toMatch(/is not valid; delete the file/);
    expect(fs.readFileSync(registryPath, "utf8")).toBe("{not json");
  });
});
