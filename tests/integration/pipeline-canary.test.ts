import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inspect, promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from "vitest";
import type { Revision } from "@/server/db/schema";
import { readEventsAfter } from "@/server/events/stream";
import { decryptWebhookSecret } from "@/server/events/webhook-secret";
import { markedPids } from "@/server/integrations/sandboxes/local-sweep";
import type { CreatedProject } from "@/server/operations/create-project";
import { openSharedEventStream } from "@/server/share-links/share-stream";
import { type PipelineHarness, startPipelineHarness } from "../helpers/pipeline-harness";
import { testPublicSite } from "../helpers/public-site";

// Secrets canary: recognisable values planted everywhere a secret lives — the operator's model and GitHub
// credentials, the platform secret key (and its base64/hex spellings), the platform process's own environment —
// then one real build. None may turn up anywhere a sandbox, a watcher or a log reader can see: stored events, the
// public replay, the sandbox's files and environment, the committed repository, the server's logs. The per-run
// token and webhook secret may live inside the sandbox while it runs, but never in the repository or the events.

const execFileAsync = promisify(execFile);
const tag = randomBytes(5).toString("hex");
const key = randomBytes(32);
const openaiKey = `sk-proj-CANARYopenai${tag}0000000000`;
const anthropicKey = `sk-ant-api03-CANARYanthropic${tag}000`;
const githubToken = `ghp_CANARYgithub${tag}00000000000000`;
/** The platform's own environment, as a real server process would hold it. */
const platformEnv: Record<string, string> = {
  KILN_SECRET_KEY: key.toString("base64"),
  OPENAI_API_KEY: `sk-CANARYenvOpenai${tag}00000`,
  ANTHROPIC_API_KEY: `sk-ant-CANARYenvAnthropic${tag}0`,
  GITHUB_TOKEN: `ghp_CANARYenvGithub${tag}000000000`,
  KILN_ADMIN_PASSWORD: `CANARYadminPassword${tag}`,
  BLOB_READ_WRITE_TOKEN: `vercel_blob_rw_CANARYblob${tag}`,
};

/** Every planted value, in every spelling that counts as the same secret. */
const canaries: Record<string, string> = {
  "operator OpenAI key": openaiKey,
  "operator Anthropic key": anthropicKey,
  "operator GitHub token": githubToken,
  "secret key (base64)": key.toString("base64"),
  "secret key (base64url)": key.toString("base64url"),
  "secret key (hex)": key.toString("hex"),
  ...Object.fromEntries(Object.entries(platformEnv).map(([name, value]) => [`env ${name}`, value])),
};

/** Which of `secrets` occur in `text` (by label), for a failure message that says what leaked. */
function leaksIn(text: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets)
    .filter(([, value]) => text.includes(value))
    .map(([label]) => label);
}

/** The regular files under `dir`, depth first; symlinks are not followed (they point outside or at a copy). */
async function* regularFiles(dir: string): AsyncGenerator<string> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (error) {
    // A live dev server's cache directory can vanish between listing and reading: nothing left to scan there.
    if (isGone(error)) return;
    throw error;
  }
  for (const entry of entries) {
    const entryPath = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* regularFiles(entryPath);
    else if (entry.isFile()) yield entryPath;
  }
}

function isGone(error: unknown): boolean {
  return error instanceof Error && "code" in error && (error.code === "ENOENT" || error.code === "ENOTDIR");
}

/**
 * Files under `dirs` holding any of `secrets` (raw bytes, so binary files count too), by secret label. The preview's
 * dev server keeps writing its cache while we scan, so a file that disappears mid-scan is skipped, not an error.
 */
async function filesHolding(
  dirs: string[],
  secrets: Record<string, string>,
): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  const needles = Object.entries(secrets).map(([label, value]) => [label, Buffer.from(value)] as const);
  for (const dir of dirs) {
    for await (const file of regularFiles(dir)) {
      let content: Buffer;
      try {
        content = await fs.promises.readFile(file);
      } catch (error) {
        if (isGone(error)) continue;
        throw error;
      }
      for (const [label, needle] of needles) {
        if (content.includes(needle)) found[label] = [...(found[label] ?? []), file];
      }
    }
  }
  return found;
}

/** The public replay of a task (what a share link's viewer receives), read until `lastCursor` arrived. */
async function sharedReplay(h: PipelineHarness, slug: string, lastCursor: number): Promise<string> {
  const controller = new AbortController();
  const response = await openSharedEventStream(h.db, testPublicSite, {
    slug,
    lastEventId: null,
    after: null,
    signal: controller.signal,
  });
  const reader = response.body?.getReader();
  if (!reader) throw new Error("the replay has no body");
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + 30_000;
  try {
    while (!text.includes(`id: ${lastCursor}\n`)) {
      if (Date.now() > deadline) throw new Error(`the replay did not reach cursor ${lastCursor}`);
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    controller.abort();
    await reader.cancel();
  }
  return text;
}

type ConsoleMethod = "error" | "warn" | "log" | "info";

describe("secrets canary: a whole build leaks no secret", { timeout: 600_000 }, () => {
  let h: PipelineHarness;
  let platformRoot: string;
  let controlPlaneFile: string;
  const savedEnv: Record<string, string | undefined> = {};
  const spies: MockInstance[] = [];
  const logged: string[] = [];
  let created: CreatedProject;
  let revision: Revision;
  /** The per-run secrets: allowed inside the running sandbox, nowhere else. */
  const runSecrets: Record<string, string> = {};

  beforeAll(async () => {
    for (const [name, value] of Object.entries(platformEnv)) {
      savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
    for (const method of ["error", "warn", "log", "info"] as const satisfies ConsoleMethod[]) {
      const original = console[method].bind(console);
      spies.push(
        vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
          logged.push(
            args.map((arg) => (typeof arg === "string" ? arg : inspect(arg, { depth: 8 }))).join(" "),
          );
          original(...args);
        }),
      );
    }
    // A checkout with its .env, and a data dir outside /tmp (local sandboxes replace /tmp, which would hide a
    // data dir there by accident): as a server is installed.
    platformRoot = fs.mkdtempSync(path.join("/var/tmp", "kiln-canary-checkout-"));
    fs.writeFileSync(
      path.join(platformRoot, ".env"),
      Object.entries(platformEnv)
        .map(([name, value]) => `${name}=${value}\n`)
        .join(""),
    );
    h = await startPipelineHarness({
      scenarios: ["plan-todo", "codex-todo-app"],
      openaiKey,
      anthropicKey,
      key,
      extraCredentials: [{ kind: "github", token: githubToken }],
      dataDirParent: "/var/tmp",
      platformRoot,
      platform: {
        platformSecrets: [
          platformEnv.KILN_SECRET_KEY,
          platformEnv.KILN_ADMIN_PASSWORD,
          platformEnv.BLOB_READ_WRITE_TOKEN,
        ].filter((value): value is string => value !== undefined),
      },
    });
    // The control-plane database lives in the data dir by default (file:<dataDir>/kiln.db).
    controlPlaneFile = path.join(h.dataDir, "kiln.db");
    fs.writeFileSync(controlPlaneFile, `credential ciphertexts ${canaries["operator GitHub token"]}\n`);

    created = await h.createProject("build a todo app");
    await h.run(created.revision.id);
    revision = await h.waitForEnd(created.revision.id);
    const sandbox = await h.db
      .selectFrom("sandbox")
      .selectAll()
      .where("id", "=", revision.sandbox_id ?? "")
      .executeTakeFirstOrThrow();
    runSecrets["webhook secret"] = decryptWebhookSecret(key, sandbox.id, sandbox.webhook_secret_ciphertext);
    for (const [n, token] of [...h.platform.runTokens].entries()) runSecrets[`run token ${n + 1}`] = token;
    // The whole build is this suite's setup: bounded like a test, not like a hook.
  }, 600_000);

  afterAll(async () => {
    await h?.close();
    for (const spy of spies) spy.mockRestore();
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    if (platformRoot) fs.rmSync(platformRoot, { recursive: true, force: true });
  });

  it("the build itself went through, with the canaries in place", () => {
    expect(h.platform.errors).toEqual([]);
    expect([revision.status, revision.error_message]).toEqual(["finished", null]);
    // The gateway did see a run token (so the per-run checks below check something), and the upstream got the
    // operator's key in its place.
    expect(Object.keys(runSecrets)).toContain("run token 1");
    expect(runSecrets["run token 1"]).toMatch(/^krt_/);
    const agentCall = h.models.modelRequests().at(-1);
    expect(agentCall?.headers.authorization).toBe(`Bearer ${openaiKey}`);
  });

  it("no stored event holds a secret, and nothing even had to be redacted", async () => {
    const rows = await h.db.selectFrom("event").select(["type", "payload"]).execute();
    expect(rows.length).toBeGreaterThan(20);
    const all = JSON.stringify(rows);
    expect(leaksIn(all, { ...canaries, ...runSecrets })).toEqual([]);
    const redacted = rows.filter((row) => row.payload.includes("[redacted]"));
    expect(
      redacted,
      "events the redactor had to clean: something secret reached the runner's output",
    ).toEqual([]);
  });

  it("the public replay of the session and the cursor reads hold no secret", async () => {
    const last = await h.db
      .selectFrom("event")
      .select((eb) => eb.fn.max("id").as("id"))
      .where("task_id", "=", created.task.id)
      .executeTakeFirstOrThrow();
    const replay = await sharedReplay(h, created.session.slug, Number(last.id));
    expect(replay).toContain("event: runner.finished");
    expect(leaksIn(replay, { ...canaries, ...runSecrets })).toEqual([]);

    let cursor = 0;
    let pages = "";
    for (let page = 0; page < 100; page++) {
      const read = await readEventsAfter(h.db, { taskId: created.task.id, afterCursor: cursor, limit: 100 });
      pages += JSON.stringify(read.events);
      cursor = read.nextCursor;
      if (!read.hasMore) break;
    }
    expect(cursor).toBe(Number(last.id));
    expect(leaksIn(pages, { ...canaries, ...runSecrets })).toEqual([]);
  });

  it("the sandbox's environment (every process of it) and its files hold no platform secret", async () => {
    const row = await h.db
      .selectFrom("sandbox")
      .selectAll()
      .where("id", "=", revision.sandbox_id ?? "")
      .executeTakeFirstOrThrow();
    const sandbox = await h.sandboxOf(revision);
    if (!sandbox || !row.external_id) throw new Error("the finished revision's sandbox is gone");

    const env = await sandbox.run({ cmd: "env" });
    expect(env.exitCode).toBe(0);
    expect(env.stdout).toContain("KILN_SANDBOX_ID=");
    expect(leaksIn(env.stdout, { ...canaries, ...runSecrets })).toEqual([]);

    // The live processes (the runner, npm, the preview's next dev…), read from the host.
    const pids = await markedPids(row.external_id);
    expect(pids.length).toBeGreaterThan(1);
    for (const pid of pids) {
      const read = (file: string) => {
        try {
          return fs.readFileSync(`/proc/${pid}/${file}`).toString("utf8");
        } catch (error) {
          if (error instanceof Error && "code" in error && error.code === "ENOENT") return "";
          throw error;
        }
      };
      const environ = read("environ");
      const cmdline = read("cmdline");
      expect(leaksIn(environ, canaries), `environment of ${cmdline.replaceAll("\0", " ")}`).toEqual([]);
      expect(leaksIn(cmdline, { ...canaries, ...runSecrets }), `command line of pid ${pid}`).toEqual([]);
    }

    // The spec (run token, webhook secret) is gone once the runner read it.
    expect(await sandbox.readFile(".kiln/run.json")).toBeNull();
    const sandboxDir = path.join(h.dataDir, "sandboxes", row.external_id);
    expect(fs.existsSync(path.join(sandboxDir, "work", "package.json"))).toBe(true);
    expect(await filesHolding([sandboxDir], canaries)).toEqual({});
  });

  it("the file scan itself finds a planted secret, in a binary file deep in the data dir", async () => {
    const planted = path.join(h.dataDir, "blobs", "control", "deep", "blob.bin");
    fs.mkdirSync(path.dirname(planted), { recursive: true });
    fs.writeFileSync(
      planted,
      Buffer.concat([randomBytes(64), Buffer.from(githubToken), Buffer.from([0, 255])]),
    );
    try {
      expect(await filesHolding([path.join(h.dataDir, "blobs")], canaries)).toEqual({
        "operator GitHub token": [planted],
      });
    } finally {
      fs.rmSync(path.join(h.dataDir, "blobs", "control"), { recursive: true, force: true });
    }
  });

  it("the data dir (repositories, database branches, sandboxes) holds no secret", async () => {
    const dirs = ["git", "databases", "sandboxes", "blobs", "deployments", "runner"].map((dir) =>
      path.join(h.dataDir, dir),
    );
    expect(await filesHolding(dirs, canaries)).toEqual({});
  });

  it("the committed repository holds no secret, neither in its tree nor in its history", async () => {
    const project = await h.db
      .selectFrom("project")
      .selectAll()
      .where("id", "=", created.project.id)
      .executeTakeFirstOrThrow();
    const repo = {
      host: "local" as const,
      fullName: project.repo_full_name ?? "",
      webUrl: project.repo_url ?? "",
      defaultBranch: "main",
    };
    const exported = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-canary-export-"));
    try {
      await h.providers.git.exportTree(repo, revision.commit_sha ?? "", exported);
      expect(fs.existsSync(path.join(exported, "src/app/actions.ts"))).toBe(true);
      expect(fs.existsSync(path.join(exported, ".kiln"))).toBe(false);
      expect(await filesHolding([exported], { ...canaries, ...runSecrets })).toEqual({});
    } finally {
      fs.rmSync(exported, { recursive: true, force: true });
    }
    const bare = path.join(h.dataDir, "git", `${project.repo_full_name}.git`);
    const { stdout: history } = await execFileAsync(
      "git",
      ["--git-dir", bare, "log", "-p", "--all", "--format=%H %an <%ae>%n%B"],
      { maxBuffer: 256 * 1024 * 1024 },
    );
    expect(history).toContain(revision.commit_sha ?? "no commit");
    expect(history).toContain("create_todos");
    expect(leaksIn(history, { ...canaries, ...runSecrets })).toEqual([]);
  });

  it("the server's logs during the build hold no secret", () => {
    expect(leaksIn(logged.join("\n"), { ...canaries, ...runSecrets })).toEqual([]);
  });

  it("the agent cannot read the platform's checkout (.env) or data dir from its sandbox", async () => {
    const sandbox = await h.sandboxOf(revision);
    if (!sandbox) throw new Error("the finished revision's sandbox is gone");
    // Another project's database branch, as the libSQL adapter keeps them side by side.
    const otherDatabase = path.join(h.dataDir, "databases", "p-otherproject", "main", "app.db");
    fs.mkdirSync(path.dirname(otherDatabase), { recursive: true });
    fs.writeFileSync(otherDatabase, `SQLite format 3 ${canaries["operator OpenAI key"]}\n`);
    const attempts = [
      ["cat", path.join(platformRoot, ".env")],
      ["cat", controlPlaneFile],
      ["cat", otherDatabase],
      // Every project's repository.
      ["ls", path.join(h.dataDir, "git")],
    ];
    const readable: string[] = [];
    for (const [cmd, target] of attempts) {
      if (!cmd || !target) continue;
      const result = await sandbox.run({ cmd, args: [target] });
      const shown = result.stdout.trim();
      if (result.exitCode === 0 && shown !== "") readable.push(`${cmd} ${target}: ${shown.slice(0, 120)}`);
    }
    expect(readable, "platform files the agent can read from inside its sandbox").toEqual([]);
  });
});
