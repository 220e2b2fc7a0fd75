import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Revision } from "@/server/db/schema";
import { createFollowUp, createRestore } from "@/server/revisions/create-revision";
import { type PipelineHarness, startPipelineHarness, statusesOf } from "../helpers/pipeline-harness";
import { testPreviewOrigins } from "../helpers/public-site";

// The whole pipeline for real on local adapters: the planner and the REAL Codex CLI talk to a scripted model through
// Kiln's gateway; the runner in a bubblewrap sandbox migrates, builds, commits (handed back as a bundle) and starts
// the preview; the webhook drives the revision on; the platform screenshots the preview and deploys the commit
// (`next start` of the build the runner verified, in a sandbox of its own), and the revision finishes.

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe("the pipeline, end to end on local adapters", { timeout: 900_000 }, () => {
  let h: PipelineHarness;

  beforeAll(async () => {
    h = await startPipelineHarness({ scenarios: ["plan-todo", "codex-todo-app"], deploy: true });
  });

  afterAll(async () => {
    await h?.close();
  });

  let first: { projectId: string; taskId: string; revisionId: string } | undefined;

  const columnsOf = (revisionId: string, table: string) =>
    h.onBranch(revisionId, async (client) =>
      (await client.execute(`PRAGMA table_info(${table})`)).rows.map((row) => String(row.name)),
    );

  const execOnBranch = (revisionId: string, sql: string) =>
    h.onBranch(revisionId, async (client) => {
      const result = await client.execute(sql);
      return Number(result.rows[0]?.[0] ?? result.rowsAffected);
    });

  async function repoOf(projectId: string) {
    const project = await h.db
      .selectFrom("project")
      .selectAll()
      .where("id", "=", projectId)
      .executeTakeFirstOrThrow();
    return {
      project,
      repo: {
        host: "local" as const,
        fullName: project.repo_full_name ?? "",
        webUrl: project.repo_url ?? "",
        defaultBranch: "main",
      },
    };
  }

  async function pageText(url: string | null): Promise<{ status: number; text: string }> {
    const page = await fetch(url ?? "http://127.0.0.1:1");
    return { status: page.status, text: (await page.text()).toLowerCase() };
  }

  function expectFinished(revision: Revision) {
    expect({ status: revision.status, error: revision.error_message }).toEqual({
      status: "finished",
      error: null,
    });
  }

  it("turns 'build a todo app' into a committed, previewed, deployed app with its own database branch", async () => {
    const created = await h.createProject("build a todo app");
    first = { projectId: created.project.id, taskId: created.task.id, revisionId: created.revision.id };
    await h.run(created.revision.id);
    const revision = await h.waitForEnd(created.revision.id, 600_000);
    const events = await h.events(revision.id);
    expect(h.platform.errors).toEqual([]);
    expectFinished(revision);
    expect(statusesOf(events)).toEqual([
      "planning",
      "provisioning",
      "generating",
      "migrating",
      "previewing",
      "verifying",
      "committing",
      "deploying",
      "finished",
    ]);
    const types = events.map((event) => event.type);
    for (const type of ["plan", "agent.command", "runner.committed", "runner.preview", "runner.finished"]) {
      expect(types, type).toContain(type);
    }
    const { project, repo } = await repoOf(created.project.id);
    expect(project.name).toBe("Todo List");

    // The commit: on the repository's main branch, holding the agent's page and migration.
    expect(await h.providers.git.resolveRef(repo, "main")).toBe(revision.commit_sha);
    const exported = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-pipeline-export-"));
    await h.providers.git.exportTree(repo, revision.commit_sha ?? "", exported);
    expect(
      fs.readdirSync(path.join(exported, "migrations")).some((file) => file.includes("create_todos")),
    ).toBe(true);
    fs.rmSync(exported, { recursive: true, force: true });

    // The preview answers with the todo UI, and a screenshot of it is kept.
    expect(revision.preview_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const preview = await pageText(revision.preview_url);
    expect(preview.status).toBe(200);
    expect(preview.text).toContain("todo");
    const screenshot = await h.providers.blob.get(revision.screenshot_key ?? "missing");
    expect(screenshot?.info.contentType).toBe("image/png");
    expect(screenshot?.body.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);

    // The deployment: a production build of the commit, served on its own port, on the revision's branch.
    expect(revision.deploy_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(revision.deploy_url).not.toBe(revision.preview_url);
    const deployed = await pageText(revision.deploy_url);
    expect(deployed.status).toBe(200);
    expect(deployed.text).toContain("todo");
    const health = await fetch(`${revision.deploy_url}/api/health`);
    expect(await health.json()).toEqual({ ok: true, db: "up" });

    // The table exists in this revision's branch.
    const tables = await h.onBranch(revision.id, async (client) =>
      (await client.execute("SELECT name FROM sqlite_master WHERE type = 'table'")).rows.map((row) =>
        String(row.name),
      ),
    );
    expect(tables).toContain("todos");

    // Tokens went through the gateway and were counted against the revision.
    expect(Number(revision.input_tokens)).toBeGreaterThan(0);
    expect(JSON.stringify(events)).not.toContain(h.openaiKey);
  });

  it("a follow-up adds a column on a new branch; restoring checkpoint 1 brings back its code and data", async () => {
    if (!first) throw new Error("the first build did not run");
    const firstDeployUrl = (await h.revision(first.revisionId)).deploy_url;
    h.switchScenarios(["codex-add-username"]);
    const followUp = await createFollowUp(h.db, testPreviewOrigins, h.userId, {
      projectId: first.projectId,
      taskId: first.taskId,
      prompt: "add a username field",
    });
    await h.run(followUp.id);
    const second = await h.waitForEnd(followUp.id, 600_000);
    expectFinished(second);
    expect(second.parent_revision_id).toBe(first.revisionId);
    expect(await columnsOf(second.id, "todos")).toContain("username");
    expect(await columnsOf(first.revisionId, "todos")).not.toContain("username");
    // The agent resumed its session from checkpoint 1 (the runner reports the same session id).
    const sessionOf = async (id: string) =>
      (await h.events(id)).flatMap((event) =>
        event.type === "agent.session" ? [event.payload.sessionId] : [],
      );
    expect((await sessionOf(second.id))[0]).toBe((await sessionOf(first.revisionId))[0]);

    // The newer deployment replaced the older one: one production server per task.
    expect((await pageText(second.deploy_url)).status).toBe(200);
    expect((await h.revision(first.revisionId)).deploy_url).toBeNull();
    await expect(fetch(firstDeployUrl ?? "http://127.0.0.1:1")).rejects.toThrow();

    // Data written after checkpoint 1, in checkpoint 2's branch.
    await execOnBranch(
      second.id,
      "INSERT INTO todos (title, username, created_at) VALUES ('written later', 'ada', '2026-11-20T00:00:00Z')",
    );
    expect(await execOnBranch(second.id, "SELECT COUNT(*) FROM todos WHERE title = 'written later'")).toBe(1);

    const restore = await createRestore(h.db, testPreviewOrigins, h.userId, first.revisionId);
    await h.run(restore.id);
    const third = await h.waitForEnd(restore.id, 600_000);
    expectFinished(third);
    expect(third.restored_from_revision_id).toBe(first.revisionId);
    expect(await columnsOf(third.id, "todos")).not.toContain("username");
    expect(await execOnBranch(third.id, "SELECT COUNT(*) FROM todos WHERE title = 'written later'")).toBe(0);

    // The code: a new commit on top of checkpoint 2 whose files are checkpoint 1's.
    const firstRow = await h.revision(first.revisionId);
    const { repo } = await repoOf(first.projectId);
    expect(await h.providers.git.resolveRef(repo, "main")).toBe(third.commit_sha);
    expect(third.commit_sha).not.toBe(firstRow.commit_sha);
    const exported = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-restore-export-"));
    await h.providers.git.exportTree(repo, third.commit_sha ?? "", exported);
    expect(fs.readdirSync(path.join(exported, "migrations")).some((file) => file.includes("username"))).toBe(
      false,
    );
    fs.rmSync(exported, { recursive: true, force: true });
    expect((await pageText(third.preview_url)).status).toBe(200);
    // The restored checkpoint is deployed too, and its screenshot taken.
    expect((await pageText(third.deploy_url)).status).toBe(200);
    expect(third.screenshot_key).toBe(`screenshots/${third.id}.png`);
  });
});
