import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asProcessEnv } from "../../src/server/process-env";
import { buildRunnerBundle, type RunnerBundle } from "../../src/server/runner-bundle/build-runner";
import { startWebhookReceiver } from "./runner-receiver";

let root: string;
let bundle: RunnerBundle;
const secret = "whsec_bundle-test-secret-91b2";

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-runner-bundle-"));
  bundle = await buildRunnerBundle(path.join(root, "out"));
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function runBundle(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle.file, ...args], {
      cwd: root,
      env: asProcessEnv({ PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: root }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

/** A throwaway project whose runner entry imports `source`, to see what the bundler refuses. */
function fakeProject(name: string, source: string, extra: Record<string, string> = {}): string {
  const dir = path.join(root, name);
  for (const [file, content] of Object.entries({ "src/sandboxes/runner/main.ts": source, ...extra })) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  fs.writeFileSync(path.join(dir, "tsconfig.json"), "{}");
  return dir;
}

describe("the runner bundle", () => {
  it("is one ES module that imports nothing but node: builtins, stored under its content hash", async () => {
    const text = fs.readFileSync(bundle.file, "utf8");
    expect(bundle.sha256).toBe(createHash("sha256").update(text).digest("hex"));
    expect(bundle.file).toBe(path.join(root, "out", bundle.sha256, "runner.mjs"));
    const imports = [...text.matchAll(/^\s*import\s.*?from\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/gm)].map(
      (match) => match[1] ?? match[2],
    );
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((specifier) => !specifier?.startsWith("node:"))).toEqual([]);
    expect(text).not.toMatch(/\brequire\(/);

    const mtime = fs.statSync(bundle.file).mtimeMs;
    const again = await buildRunnerBundle(path.join(root, "out"));
    expect(again).toEqual(bundle);
    expect(fs.statSync(bundle.file).mtimeMs).toBe(mtime);
    expect(fs.readdirSync(path.join(root, "out"))).toEqual([bundle.sha256]);
  });

  it("refuses to bundle server-only code, platform modules not cleared for sandboxes, or other packages", async () => {
    const serverOnly = fakeProject("p1", 'import "server-only";\nconsole.log(1);\n');
    await expect(buildRunnerBundle(path.join(root, "x"), { projectRoot: serverOnly })).rejects.toThrow(
      /must not include a server-only module/,
    );
    const platform = fakeProject("p2", 'import { key } from "../../server/db/keys";\nconsole.log(key);\n', {
      "src/server/db/keys.ts": 'export const key = "platform";\n',
    });
    await expect(buildRunnerBundle(path.join(root, "x"), { projectRoot: platform })).rejects.toThrow(
      /not cleared for sandboxes: src\/server\/db\/keys.ts/,
    );
    // Outside src/server too: only the runner's own folder and the agent definitions are cleared as a whole.
    const elsewhere = fakeProject("p4", 'import { env } from "../../env";\nconsole.log(env);\n', {
      "src/env.ts": 'export const env = { KILN_SECRET_KEY: "platform" };\n',
    });
    await expect(buildRunnerBundle(path.join(root, "x"), { projectRoot: elsewhere })).rejects.toThrow(
      /not cleared for sandboxes: src\/env.ts/,
    );
    const foreign = fakeProject("p3", 'import { sql } from "kysely";\nconsole.log(sql);\n');
    await expect(buildRunnerBundle(path.join(root, "x"), { projectRoot: foreign })).rejects.toThrow(
      /only use node: builtins and zod, not "kysely"/,
    );
    expect(fs.existsSync(path.join(root, "x"))).toBe(false);
  });

  it("includes the agent definitions the runner imports", async () => {
    const withAgent = fakeProject(
      "p5",
      'import { kind } from "../../agents/demo/definition";\nconsole.log(kind);\n',
      {
        "src/agents/demo/definition.ts": 'export const kind = "demo-agent";\n',
      },
    );
    const built = await buildRunnerBundle(path.join(root, "p5-out"), { projectRoot: withAgent });
    expect(fs.readFileSync(built.file, "utf8")).toContain('"demo-agent"');
  });

  it("exits 1 with a usage line when given no spec", async () => {
    const result = await runBundle([]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("usage: node runner.mjs <run-spec.json>");
  });

  it("reports a broken spec to the webhook without echoing its values, and deletes the spec", async () => {
    const hook = await startWebhookReceiver({ secret });
    try {
      const specPath = path.join(root, "broken-spec.json");
      const leaked = "krt_should-not-appear-anywhere";
      fs.writeFileSync(
        specPath,
        JSON.stringify({
          runId: "run_broken_spec",
          seqBase: 7,
          webhookUrl: hook.url,
          webhookSecret: secret,
          runToken: leaked,
          agent: "gpt-shell",
        }),
      );
      const result = await runBundle([specPath]);
      expect(result.code).toBe(1);
      expect(fs.existsSync(specPath)).toBe(false);
      const events = hook.events();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ id: "run_broken_spec-7", seq: 7, type: "runner.failed" });
      expect(events[0]?.payload).toEqual({
        step: "provision",
        reason: expect.stringMatching(/^invalid run spec: revisionId: .*agent: /),
      });
      expect(JSON.stringify(events) + result.stderr).not.toContain(leaked);
    } finally {
      await hook.close();
    }
  });

  it("fails the run at generate, with the reason, when the agent CLI cannot start", async () => {
    const hook = await startWebhookReceiver({ secret });
    try {
      const workdir = fs.mkdtempSync(path.join(root, "work-"));
      const specPath = path.join(root, "spec.json");
      fs.writeFileSync(
        specPath,
        JSON.stringify({
          runId: "run_missing_cli",
          revisionId: "rev_1",
          agent: "codex",
          prompt: "anything",
          model: "gpt-5.5",
          gatewayBaseUrl: "http://127.0.0.1:9/gateway",
          runToken: "krt_token",
          webhookUrl: hook.url,
          webhookSecret: secret,
          databaseUrl: "file:app.db",
          workdir,
          agentHome: path.join(root, "agent-home"),
          binPath: "/nonexistent/bin/codex",
          steps: { migrate: true, build: true, commit: false, preview: false },
        }),
      );
      const result = await runBundle([specPath]);
      expect(result.code).toBe(1);
      const events = hook.events();
      expect(events.map((event) => event.type)).toEqual(["runner.step", "runner.step", "runner.failed"]);
      expect(events.at(-1)?.payload).toEqual({
        step: "generate",
        reason: expect.stringMatching(
          /^the agent failed \(could not start \(spawn \/nonexistent\/bin\/codex ENOENT\)\)/,
        ),
      });
      // Its config was written into its own HOME, the token kept out of it.
      const config = fs.readFileSync(path.join(root, "agent-home", ".codex", "config.toml"), "utf8");
      expect(config).toContain('base_url = "http://127.0.0.1:9/gateway/v1"');
      expect(config).not.toContain("krt_token");
      expect(fs.statSync(path.join(root, "agent-home", ".codex", "config.toml")).mode & 0o077).toBe(0);
    } finally {
      await hook.close();
    }
  });
});
