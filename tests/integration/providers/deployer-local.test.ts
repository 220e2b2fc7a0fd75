import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLocalDeployer } from "@/server/integrations/deployer/local";
import { createLocalSandboxes } from "@/server/integrations/sandboxes/local";
import { describeDeployerContract } from "../../contracts/deployer";

// The local deployer for real: each deployment builds (`npm run build`) and serves (`npm run start` with PORT) a
// directory of files in its own local sandbox. The apps are tiny Node servers so the suite stays fast; the real
// Next.js template is deployed the same way.

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

function makeDeployer() {
  const dataDir = tempDir("kiln-deploy-data-");
  const sandboxes = createLocalSandboxes({ root: path.join(dataDir, "sandboxes") });
  return createLocalDeployer({ root: path.join(dataDir, "deployments"), sandboxes, startTimeoutMs: 60_000 });
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
});
