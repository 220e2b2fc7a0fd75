import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitHubGitHost } from "@/server/integrations/git-host/github";
import { createLocalSandboxes } from "@/server/integrations/sandboxes/local";
import type { SandboxHandle } from "@/server/integrations/sandboxes/port";
import { makeTemplate } from "../../contracts/git-host";
import { type FakeGitHub, startFakeGitHub } from "../../fakes/github";

// The push handoff end to end: a GitHub project's code goes into a local sandbox, the sandbox commits and hands back
// a bundle, and the platform commits it to GitHub. The operator's PAT exists in the platform process (as the
// credential store would hand it over) and must appear nowhere the sandbox can see: not its env, not its files.

const pat = "ghp_HandoffCanary_5b8e0f1d2c3a4b5c6d7e8f90";

function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && fs.readFileSync(full).includes(needle)) hits.push(full);
    }
  };
  walk(dir);
  return hits;
}

describe("sandbox ⇄ git host handoff", () => {
  let work: string;
  let fake: FakeGitHub;
  let sandbox: SandboxHandle | undefined;
  const previousToken = process.env.GITHUB_TOKEN;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-handoff-"));
    fake = await startFakeGitHub({ token: pat, scopes: ["repo", "delete_repo"] });
    // A platform that uses a platform-wide token has it in its own environment.
    process.env.GITHUB_TOKEN = pat;
  });
  afterAll(async () => {
    if (previousToken === undefined) delete process.env.GITHUB_TOKEN;
    else process.env.GITHUB_TOKEN = previousToken;
    await sandbox?.stop();
    await fake.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("commits the sandbox's work to GitHub while the PAT stays out of the sandbox", {
    timeout: 60_000,
  }, async () => {
    const host = createGitHubGitHost({ token: pat, apiUrl: fake.url, timeoutMs: 5_000 });
    const templateDir = path.join(work, "template");
    await makeTemplate(templateDir);
    const { repo, initialSha } = await host.createRepo({ name: "handoff-app", templateDir });

    const exported = path.join(work, "export");
    await host.exportTree(repo, initialSha, exported);
    const sandboxes = createLocalSandboxes({ root: path.join(work, "sandboxes") });
    sandbox = await sandboxes.create({
      name: "handoff",
      source: { kind: "directory", path: exported },
      ports: [],
      env: { KILN_RUN_TOKEN: "short-lived-run-token" },
      timeoutMs: 120_000,
    });

    const env = await sandbox.run({ cmd: "env" });
    expect(env.exitCode).toBe(0);
    expect(env.stdout).toContain("KILN_RUN_TOKEN=short-lived-run-token");
    expect(env.stdout).not.toContain(pat);
    expect(env.stdout).not.toContain("GITHUB_TOKEN");

    const script = [
      "set -e",
      "git init -q -b main",
      "git -c user.name=Agent -c user.email=agent@sandbox add -A",
      "git -c user.name=Agent -c user.email=agent@sandbox commit -q -m base",
      "mkdir -p app/todos && echo 'export default function Todos() { return null; }' > app/todos/page.tsx",
      "git -c user.name=Agent -c user.email=agent@sandbox add -A",
      "git -c user.name=Agent -c user.email=agent@sandbox commit -q -m work",
      "git bundle create -q ../out.bundle --all",
      "mv ../out.bundle out.bundle",
    ].join("\n");
    const committed = await sandbox.run({ cmd: "sh", args: ["-c", script] });
    expect(committed.stderr).toBe("");
    expect(committed.exitCode).toBe(0);

    const bundle = await sandbox.readFile("out.bundle");
    expect(bundle).not.toBeNull();
    const bundlePath = path.join(work, "out.bundle");
    fs.writeFileSync(bundlePath, bundle ?? Buffer.alloc(0));
    const { sha } = await host.commitFromBundle(repo, {
      branch: "main",
      parentSha: initialSha,
      bundlePath,
      message: "Add a todos page",
      author: { name: "Kiln", email: "kiln@example.com" },
    });

    expect(await host.resolveRef(repo, "main")).toBe(sha);
    expect(fake.commit(repo.fullName, sha)?.parents).toEqual([initialSha]);
    const after = path.join(work, "after");
    await host.exportTree(repo, sha, after);
    expect(fs.readFileSync(path.join(after, "app/todos/page.tsx"), "utf8")).toContain("Todos");

    expect(filesContaining(path.join(work, "sandboxes"), pat)).toEqual([]);
    expect(bundle?.includes(pat)).toBe(false);
  });
});
