import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createFollowUp, createRestore } from "@/server/revisions/create-revision";
import { type PipelineHarness, startPipelineHarness, statusesOf } from "../helpers/pipeline-harness";
import { testPreviewOrigins } from "../helpers/public-site";

const execFileAsync = promisify(execFile);

/** The columns of `todos` in a revision's own database branch. */
function columnsOf(h: PipelineHarness, revisionId: string): Promise<string[]> {
  return h.onBranch(revisionId, async (client) =>
    (await client.execute("PRAGMA table_info(todos)")).rows.map((row) => String(row.name)),
  );
}

// The todo-app flow with the REAL Claude Code CLI: the planner asks the Anthropic Messages API (a claude-code
// project plans with its agent's vendor), Claude Code talks to the scripted model through Kiln's gateway
// (`/gateway/v1/messages?beta=true`), and the runner migrates, builds, commits and previews as with Codex.

describe("the pipeline with Claude Code, end to end on local adapters", { timeout: 600_000 }, () => {
  let h: PipelineHarness;
  let built: { repoDir: string; sha: string } | undefined;

  beforeAll(async () => {
    h = await startPipelineHarness({ scenarios: ["plan-todo", "claude-todo-app"] });
  });

  afterAll(async () => {
    await h?.close();
  });

  it("turns 'build a todo app' into a committed, previewed app with its own database branch", async () => {
    const created = await h.createProject("build a todo app", { agent: "claude-code" });
    await h.run(created.revision.id);
    const revision = await h.waitForEnd(created.revision.id);
    const events = await h.events(revision.id);

    expect(h.platform.errors).toEqual([]);
    expect({ status: revision.status, error: revision.error_message }).toEqual({
      status: "finished",
      error: null,
    });

    // Every model call was Anthropic's: the planner's forced tool first, then Claude Code's through the gateway.
    const requests = h.models.modelRequests();
    expect(requests.map((request) => request.conversation?.api)).not.toContain("openai");
    expect(requests[0]?.conversation?.structuredName).toBeDefined();
    expect(requests.slice(1).every((request) => request.path.startsWith("/v1/messages"))).toBe(true);
    expect(requests.slice(1).every((request) => request.conversation?.model === "claude-sonnet-5")).toBe(
      true,
    );
    // The gateway swapped the run token for the operator's key: the upstream never saw a run token.
    expect(JSON.stringify(requests.map((request) => request.headers))).not.toContain("krt_");

    const types = events.map((event) => event.type);
    for (const type of [
      "plan",
      "agent.session",
      "agent.command",
      "agent.file_change",
      "agent.usage",
      "runner.committed",
      "runner.preview",
      "runner.finished",
    ]) {
      expect(types, type).toContain(type);
    }
    // The state machine went through every step of the run, in order.
    expect(statusesOf(events)).toEqual([
      "planning",
      "provisioning",
      "generating",
      "migrating",
      "previewing",
      "verifying",
      "committing",
      "finished",
    ]);
    // Claude Code's Write tool went through its own tool, not the shell: the written files are reported.
    const changed = events.flatMap((event) =>
      event.type === "agent.file_change" ? event.payload.changes.map((change) => change.path) : [],
    );
    expect(changed).toContain("src/app/page.tsx");

    const project = await h.db
      .selectFrom("project")
      .selectAll()
      .where("id", "=", created.project.id)
      .executeTakeFirstOrThrow();
    expect([project.name, project.agent]).toEqual(["Todo List", "claude-code"]);

    // The commit: on the repository's main branch, holding the agent's page and migration.
    const repo = {
      host: "local" as const,
      fullName: project.repo_full_name ?? "",
      webUrl: project.repo_url ?? "",
      defaultBranch: "main",
    };
    expect(await h.providers.git.resolveRef(repo, "main")).toBe(revision.commit_sha);
    built = { repoDir: path.join(h.dataDir, "git", `${repo.fullName}.git`), sha: revision.commit_sha ?? "" };
    const exported = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-pipeline-claude-export-"));
    try {
      await h.providers.git.exportTree(repo, revision.commit_sha ?? "", exported);
      expect(
        fs.readdirSync(path.join(exported, "migrations")).some((file) => file.includes("create_todos")),
      ).toBe(true);
      expect(fs.readFileSync(path.join(exported, "src/app/page.tsx"), "utf8")).toContain("TodoForm");
      // Nothing of the runner's or the agent's own state is committed.
      expect(fs.existsSync(path.join(exported, ".kiln"))).toBe(false);
      expect(fs.existsSync(path.join(exported, ".claude"))).toBe(false);
    } finally {
      fs.rmSync(exported, { recursive: true, force: true });
    }

    // The preview answers with the todo UI.
    expect(revision.preview_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await fetch(revision.preview_url ?? "");
    expect(page.status).toBe(200);
    expect((await page.text()).toLowerCase()).toContain("todo");

    // The table exists in this revision's branch.
    const tables = await h.onBranch(revision.id, (client) =>
      client.execute("SELECT name FROM sqlite_master WHERE type = 'table'"),
    );
    expect(tables.rows.map((row) => String(row.name))).toContain("todos");

    // Tokens went through the gateway and were counted against the revision: one usage row per Claude Code call,
    // input counted with cache reads as the scenario reports them (2,400 in, 1,800 of them cached, 350 out).
    const usage = await h.db.selectFrom("usage").selectAll().where("revision_id", "=", revision.id).execute();
    expect(usage.length).toBe(requests.length - 1);
    expect(usage.every((row) => row.provider === "anthropic")).toBe(true);
    expect(Number(revision.input_tokens)).toBe(2_400 * usage.length);
    expect(Number(revision.cached_tokens)).toBe(1_800 * usage.length);
    expect(Number(revision.output_tokens)).toBe(350 * usage.length);
  });

  it("a follow-up resumes Claude Code's session on a new branch; restoring checkpoint 1 brings its schema back", async () => {
    if (!built) throw new Error("the build did not get as far as a commit");
    const [first] = await h.db
      .selectFrom("revision")
      .selectAll()
      .where("commit_sha", "=", built.sha)
      .execute();
    if (!first) throw new Error("no first checkpoint");
    h.switchScenarios(["claude-add-username"]);
    const requestsBefore = h.models.modelRequests().length;
    const followUp = await createFollowUp(h.db, testPreviewOrigins, h.userId, {
      projectId: first.project_id,
      taskId: first.task_id,
      prompt: "add a username field",
    });
    await h.run(followUp.id);
    const second = await h.waitForEnd(followUp.id);
    expect({ status: second.status, error: second.error_message }).toEqual({
      status: "finished",
      error: null,
    });
    expect(await columnsOf(h, second.id)).toContain("username");
    expect(await columnsOf(h, first.id)).not.toContain("username");
    // Resumed, not started afresh: the follow-up's first model call carries checkpoint 1's conversation.
    const followUpCall = h.models.modelRequests()[requestsBefore];
    const messages = z.object({ messages: z.array(z.unknown()) }).parse(followUpCall?.body).messages;
    expect(messages.length).toBeGreaterThan(4);
    expect(followUpCall?.rawBody).toContain("TodoForm");

    const restore = await createRestore(h.db, testPreviewOrigins, h.userId, first.id);
    await h.run(restore.id);
    const third = await h.waitForEnd(restore.id);
    expect({ status: third.status, error: third.error_message }).toEqual({ status: "finished", error: null });
    expect(await columnsOf(h, third.id)).not.toContain("username");
    expect((await fetch(third.preview_url ?? "http://127.0.0.1:1")).status).toBe(200);
  });

  it("the commit reads as the operator's request, not as the agent's instructions", async () => {
    if (!built) throw new Error("the build did not get as far as a commit");
    const { stdout } = await execFileAsync("git", [
      "--git-dir",
      built.repoDir,
      "log",
      "-1",
      "--format=%B",
      built.sha,
    ]);
    // docs/pipeline.md: the commit's message is the prompt. The planner's agent prompt (with the template's
    // conventions appended) is what the agent was told, not what the operator asked for.
    expect(stdout.trim().split("\n")[0]).toBe("build a todo app");
    expect(stdout).not.toContain("Conventions of this app template");
  });
});
