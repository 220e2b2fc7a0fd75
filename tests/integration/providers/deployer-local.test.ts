import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLocalDeployer, type LocalDeployerOptions } from "@/server/integrations/deployer/local";
import { createLocalGitHost } from "@/server/integrations/git-host/local";
import { createLocalSandboxes } from "@/server/integrations/sandboxes/local";
import { describeDeployerContract } from "../../contracts/deployer";

// The local deployer for real: each deployment builds (`npm run build`) and serves (`npm run start` with PORT) a
// directory of files in its own local sandbox, or a commit of a local git repository staged as one. The apps are
// tiny Node servers so the suite stays fast; the real Next.js template is deployed the same way.

const roots: string[] = [];
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  roots.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of roots) fs.rmSync(dir, { recursive: true, force: true });
});

const server = `
const http = require("node:http");
const fs = require("node:fs");
const built = JSON.parse(fs.readFileSync("build-output.json", "utf8"));
http.createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  if (req.url === "/marker") {
    res.end(JSON.stringify(fs.existsSync("marker.txt") ? fs.readFileSync("marker.txt", "utf8") : null));
    return;
  }
  res.end(JSON.stringify(req.url === "/env" ? { ...built, ...process.env } : { ok: true }));
}).listen(Number(process.env.PORT), process.env.HOSTNAME);
`;

function app(build: string): string {
  const dir = tempDir("kiln-deploy-src-");
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "app", private: true, scripts: { build, start: "node server.js" } }),
  );
  fs.writeFileSync(path.join(dir, "server.js"), server);
  return dir;
}

const buildOk = `node -e "require('fs').writeFileSync('build-output.json', JSON.stringify({BUILT_WITH: process.env.KILN_CONTRACT_RUN || process.env.KILN_REVISION || ''}))"`;
const buildFails = `node -e "console.error('Error: Type error in app/page.tsx: x is not assignable'); process.exit(1)"`;

function makeDeployer(options: Partial<LocalDeployerOptions> = {}, dataDir = tempDir("kiln-deploy-data-")) {
  const sandboxes = createLocalSandboxes({ root: path.join(dataDir, "sandboxes") });
  return createLocalDeployer({
    root: path.join(dataDir, "deployments"),
    sandboxes,
    startTimeoutMs: 60_000,
    ...options,
  });
}

const git = createLocalGitHost({ root: tempDir("kiln-deploy-git-") });
/** Commit sha by the marker its files hold, so a deployment tells which commit it serves. */
const commitOfMarker = new Map<string, string>();

/** A repository whose first commit is `app(build)` plus `extra` files (and a marker of its own). */
async function pushedApp(build: string, extra: Record<string, string> = {}) {
  const dir = app(build);
  const marker = randomBytes(8).toString("hex");
  fs.writeFileSync(path.join(dir, "marker.txt"), marker);
  for (const [file, content] of Object.entries(extra)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  const { repo, initialSha } = await git.createRepo({ name: `app-${marker}`, templateDir: dir });
  commitOfMarker.set(marker, initialSha);
  return {
    repo,
    branch: repo.defaultBranch,
    sha: initialSha,
    exportFiles: (destDir: string) => git.exportTree(repo, initialSha, destDir),
  };
}

describeDeployerContract(
  "local (npm run build && npm run start in a local sandbox)",
  async () => {
    const deployer = makeDeployer();
    return {
      deployer,
      workingSource: async () => ({ kind: "directory" as const, path: app(buildOk) }),
      failingSource: async () => ({ kind: "directory" as const, path: app(buildFails) }),
      async deployedEnv(deployment) {
        const response = await fetch(`${deployment.url}/env`);
        return (await response.json()) as Record<string, string>;
      },
      pushedCommit: () => pushedApp(buildOk),
      async deployedCommit(deployment) {
        const marker = (await (await fetch(`${deployment.url}/marker`)).json()) as string;
        return commitOfMarker.get(marker) ?? `no commit holds marker ${marker}`;
      },
      retiresReplaced: true,
      waitTimeoutMs: 90_000,
      unknownId: "ldp_00000000000000000000",
    };
  },
  { testTimeoutMs: 180_000 },
);

describe("local deployer specifics", () => {
  it("refuses a git source with a clear reason", async () => {
    const deployer = makeDeployer();
    await expect(
      deployer.deploy({
        name: "x",
        source: { kind: "git", repoFullName: "a/b", ref: "main", sha: "0".repeat(40) },
        env: {},
      }),
    ).rejects.toMatchObject({ kind: "invalid", message: expect.stringMatching(/directory/) });
  });

  it("lets another deployer of the same process read a build in progress without calling it interrupted", {
    timeout: 180_000,
  }, async () => {
    // The platform makes a deployer per request: the status route's is not the one building the deployment.
    const dataDir = tempDir("kiln-deploy-data-");
    const building = makeDeployer({}, dataDir);
    const reading = makeDeployer({}, dataDir);
    const slowBuild = `node -e "setTimeout(() => require('fs').writeFileSync('build-output.json', '{}'), 3000)"`;
    const started = await building.deploy({
      name: "slow",
      source: { kind: "directory", path: app(slowBuild) },
      env: {},
    });
    const seen = await reading.getDeployment(started.id);
    expect({ state: seen?.state, errorMessage: seen?.errorMessage ?? null }).toEqual({
      state: "building",
      errorMessage: null,
    });
    const ready = await building.waitForDeployment(started.id, { timeoutMs: 90_000 });
    expect({ state: ready.state, errorMessage: ready.errorMessage }).toEqual({
      state: "ready",
      errorMessage: null,
    });
    await building.remove(started.id);
  });

  it("never calls a build interrupted that ended while a status read was in flight", {
    timeout: 180_000,
  }, async () => {
    // Status reads keep coming while the build ends (the workspace polls): a read that loaded the record just
    // before the build wrote "ready", and looked for the build just after it ended, took it for interrupted.
    const dataDir = tempDir("kiln-deploy-data-");
    const building = makeDeployer({}, dataDir);
    const reading = makeDeployer({}, dataDir);
    const slowBuild = `node -e "setTimeout(() => require('fs').writeFileSync('build-output.json', '{}'), 2000)"`;
    const started = await building.deploy({
      name: "polled",
      source: { kind: "directory", path: app(slowBuild) },
      env: {},
    });
    const poll = async (): Promise<string | undefined> => {
      for (;;) {
        const seen = await reading.getDeployment(started.id);
        if (seen?.state !== "building") return seen?.state;
      }
    };
    const seen = await Promise.all(Array.from({ length: 16 }, poll));
    const ready = await building.waitForDeployment(started.id, { timeoutMs: 90_000 });
    expect({ state: ready.state, errorMessage: ready.errorMessage }).toEqual({
      state: "ready",
      errorMessage: null,
    });
    expect(new Set(seen)).toEqual(new Set(["ready"]));
    await building.remove(started.id);
  });

  it("builds with the deployment's env and serves it on its own port", { timeout: 180_000 }, async () => {
    const deployer = makeDeployer();
    const started = await deployer.deploy({
      name: "env",
      source: { kind: "directory", path: app(buildOk) },
      env: { KILN_REVISION: "r7" },
    });
    const ready = await deployer.waitForDeployment(started.id, { timeoutMs: 90_000 });
    expect({ state: ready.state, errorMessage: ready.errorMessage }).toEqual({
      state: "ready",
      errorMessage: null,
    });
    const env = (await (await fetch(`${ready.url}/env`)).json()) as Record<string, string>;
    expect(env.BUILT_WITH).toBe("r7");
    expect(env.KILN_REVISION).toBe("r7");
    await deployer.remove(started.id);
    await expect(fetch(`${ready.url}/env`)).rejects.toThrow();
  });

  it("installs a source's locked dependencies first when it comes without node_modules", {
    timeout: 180_000,
  }, async () => {
    const dir = app(
      `node -e "require('fs').writeFileSync('build-output.json', JSON.stringify({BUILT_WITH: require('greeting')}))"`,
    );
    fs.mkdirSync(path.join(dir, "greeting"));
    fs.writeFileSync(
      path.join(dir, "greeting", "package.json"),
      JSON.stringify({ name: "greeting", version: "1.0.0", main: "index.js" }),
    );
    fs.writeFileSync(
      path.join(dir, "greeting", "index.js"),
      'module.exports = "installed from the lockfile";',
    );
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    fs.writeFileSync(
      path.join(dir, "package.json"),
      JSON.stringify({ ...manifest, dependencies: { greeting: "file:./greeting" } }),
    );
    // The lockfile npm itself writes, made offline (a file: dependency needs no registry).
    execFileSync("npm", ["install", "--package-lock-only", "--no-audit", "--no-fund"], {
      cwd: dir,
      stdio: "ignore",
    });
    expect(fs.existsSync(path.join(dir, "node_modules"))).toBe(false);

    const deployer = makeDeployer();
    const started = await deployer.deploy({
      name: "locked",
      source: { kind: "directory", path: dir },
      env: {},
    });
    const ready = await deployer.waitForDeployment(started.id, { timeoutMs: 120_000 });
    expect({ state: ready.state, errorMessage: ready.errorMessage }).toEqual({
      state: "ready",
      errorMessage: null,
    });
    const env = (await (await fetch(`${ready.url}/env`)).json()) as Record<string, string>;
    expect(env.BUILT_WITH).toBe("installed from the lockfile");
    await deployer.remove(started.id);
  });

  it("removes a commit's staged files once its build is over", { timeout: 180_000 }, async () => {
    const stagingRoot = tempDir("kiln-deploy-staging-");
    const deployer = makeDeployer({ stagingRoot });
    const started = await deployer.deployCommit({
      name: "staged",
      commit: await pushedApp(buildOk),
      env: {},
    });
    expect(fs.readdirSync(stagingRoot)).toHaveLength(1);
    const ready = await deployer.waitForDeployment(started.id, { timeoutMs: 90_000 });
    expect(ready.state).toBe("ready");
    const deadline = Date.now() + 10_000;
    while (fs.readdirSync(stagingRoot).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(fs.readdirSync(stagingRoot)).toEqual([]);
    await deployer.remove(started.id);
  });

  it("links the warm dependencies into a commit whose lockfile is theirs, instead of installing", {
    timeout: 180_000,
  }, async () => {
    // The lockfile names nothing, so `npm ci` would install nothing: only the link brings the module in.
    const lockfile = JSON.stringify({
      name: "app",
      lockfileVersion: 3,
      requires: true,
      packages: { "": {} },
    });
    const warm = tempDir("kiln-deploy-warm-");
    fs.writeFileSync(path.join(warm, "package-lock.json"), lockfile);
    fs.mkdirSync(path.join(warm, "node_modules", "kiln-warm-marker"), { recursive: true });
    fs.writeFileSync(
      path.join(warm, "node_modules", "kiln-warm-marker", "index.js"),
      'module.exports = "linked from the warm cache";',
    );
    const buildWithWarm = `node -e "require('fs').writeFileSync('build-output.json', JSON.stringify({BUILT_WITH: require('kiln-warm-marker')}))"`;

    const deployer = makeDeployer({ warmDependencies: async () => warm });
    const linked = await deployer.deployCommit({
      name: "warm",
      commit: await pushedApp(buildWithWarm, { "package-lock.json": lockfile }),
      env: {},
    });
    const ready = await deployer.waitForDeployment(linked.id, { timeoutMs: 90_000 });
    expect({ state: ready.state, errorMessage: ready.errorMessage }).toEqual({
      state: "ready",
      errorMessage: null,
    });
    const env = (await (await fetch(`${ready.url}/env`)).json()) as Record<string, string>;
    expect(env.BUILT_WITH).toBe("linked from the warm cache");
    await deployer.remove(linked.id);

    // Another lockfile: nothing is linked, so the build cannot find the module.
    const other = await deployer.deployCommit({
      name: "cold",
      commit: await pushedApp(buildWithWarm, { "package-lock.json": lockfile.replace('"app"', '"other"') }),
      env: {},
    });
    const failed = await deployer.waitForDeployment(other.id, { timeoutMs: 90_000 });
    expect(failed.state).toBe("error");
    expect((await deployer.buildErrors(other.id)).join("\n")).toMatch(/kiln-warm-marker/);
    await deployer.remove(other.id);
  });

  /** A gzipped tar of `files`, as the runner packs a verified build. */
  function tarball(files: Record<string, string>): Buffer {
    const dir = tempDir("kiln-deploy-prebuilt-");
    for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), content);
    return execFileSync("tar", ["-czf", "-", ...Object.keys(files)], { cwd: dir });
  }

  it("serves a commit's verified build as handed in, without building it again", {
    timeout: 180_000,
  }, async () => {
    // The commit's own build would fail: a ready deployment shows it never ran.
    const deployer = makeDeployer();
    const started = await deployer.deployCommit({
      name: "prebuilt",
      commit: await pushedApp(buildFails),
      env: {},
      prebuilt: async () => tarball({ "build-output.json": JSON.stringify({ BUILT_WITH: "the runner" }) }),
    });
    const ready = await deployer.waitForDeployment(started.id, { timeoutMs: 90_000 });
    expect({ state: ready.state, errorMessage: ready.errorMessage }).toEqual({
      state: "ready",
      errorMessage: null,
    });
    const env = (await (await fetch(`${ready.url}/env`)).json()) as Record<string, string>;
    expect(env.BUILT_WITH).toBe("the runner");
    await deployer.remove(started.id);
  });

  it("builds the commit when its stored build is gone", { timeout: 180_000 }, async () => {
    const deployer = makeDeployer();
    const started = await deployer.deployCommit({
      name: "gone",
      commit: await pushedApp(buildOk),
      env: { KILN_REVISION: "rebuilt" },
      prebuilt: async () => null,
    });
    const ready = await deployer.waitForDeployment(started.id, { timeoutMs: 90_000 });
    expect(ready.state).toBe("ready");
    const env = (await (await fetch(`${ready.url}/env`)).json()) as Record<string, string>;
    expect(env.BUILT_WITH).toBe("rebuilt");
    await deployer.remove(started.id);
  });

  it("fails with a reason, rather than building, when the handed-in build does not unpack", {
    timeout: 180_000,
  }, async () => {
    const deployer = makeDeployer();
    const started = await deployer.deployCommit({
      name: "garbled",
      commit: await pushedApp(buildOk),
      env: {},
      prebuilt: async () => Buffer.from("not a tarball"),
    });
    const failed = await deployer.waitForDeployment(started.id, { timeoutMs: 90_000 });
    expect(failed.state).toBe("error");
    expect(failed.errorMessage).toMatch(/Unpacking the verified build failed/);
    await deployer.remove(started.id);
  });
});
