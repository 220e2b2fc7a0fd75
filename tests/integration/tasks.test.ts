import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Revision } from "@/server/db/schema";
import { createTask } from "@/server/operations/create-task";
import { createFollowUp, createRestore } from "@/server/revisions/create-revision";
import type { ScenarioInput } from "../fakes/model-server";
import { testDatabases } from "../helpers/databases";
import { type PipelineHarness, startPipelineHarness } from "../helpers/pipeline-harness";
import { testPreviewOrigins } from "../helpers/public-site";

// Several tasks per project (issue 15), on the real pipeline (local adapters, the real Codex CLI, the scripted
// model): checkpoint 1 of the main task writes a row, checkpoint 2 writes another; a task started from checkpoint 1
// gets checkpoint 1's code and data on a branch of its own, and promoting its checkpoint onto the main task brings
// that code and data back there as a new checkpoint. On both control-plane dialects.

const execFileAsync = promisify(execFile);

/** A migration that inserts one todo titled `title`: the app's data, written by a checkpoint as it migrates. */
function seedMigration(title: string): string[] {
  return [
    'import { type Kysely, sql } from "kysely";',
    "",
    "export async function up(db: Kysely<unknown>): Promise<void> {",
    `  await sql\`insert into todos (title, done, created_at) values ('${title}', 0, '2026-03-03T00:00:00.000Z')\`.execute(db);`,
    "}",
    "",
    "export async function down(db: Kysely<unknown>): Promise<void> {",
    `  await sql\`delete from todos where title = '${title}'\`.execute(db);`,
    "}",
  ];
}

/** Checkpoint 1: the todo app, whose last migration writes a first row. */
const firstCheckpoint: ScenarioInput = {
  name: "todo-with-first-row",
  turns: [
    {
      when: { step: 6 },
      reply: {
        kind: "write",
        path: "migrations/20260303000000_seed_first.ts",
        content: seedMigration("written by checkpoint 1"),
      },
    },
  ],
};

/** A follow-up that only writes `file` (a migration or a note), then says it is done. */
function writes(name: string, file: string, content: string[]): ScenarioInput {
  return {
    name,
    turns: [
      { when: { step: 0 }, reply: { kind: "write", path: file, content } },
      { reply: { kind: "text", text: "Done." } },
    ],
  };
}

describe.each(testDatabases)(
  "tasks on the real pipeline, control plane on $name",
  { timeout: 1_800_000 },
  (database) => {
    let h: PipelineHarness;

    beforeAll(async () => {
      h = await startPipelineHarness({
        database,
        scenarios: [firstCheckpoint, "plan-todo", "codex-todo-app"],
      });
    });

    afterAll(async () => {
      await h?.close();
    });

    const git = async (repoDir: string, ...args: string[]) =>
      (await execFileAsync("git", ["--git-dir", repoDir, ...args])).stdout.trim();

    const titlesOn = (revisionId: string) =>
      h.onBranch(revisionId, async (client) =>
        (await client.execute("select title from todos order by id")).rows.map((row) => String(row.title)),
      );

    async function runToEnd(revisionId: string): Promise<Revision> {
      await h.run(revisionId);
      const ended = await h.waitForEnd(revisionId);
      expect({ status: ended.status, error: ended.error_message }).toEqual({
        status: "finished",
        error: null,
      });
      return ended;
    }

    it("starts a task from checkpoint 1 with its data, not the main task's later rows, and promotes it onto main", async () => {
      const created = await h.createProject("build a todo app");
      const first = await runToEnd(created.revision.id);
      const project = await h.db
        .selectFrom("project")
        .selectAll()
        .where("id", "=", created.project.id)
        .executeTakeFirstOrThrow();
      const repoDir = path.join(h.dataDir, "git", `${project.repo_full_name}.git`);
      expect(await titlesOn(first.id)).toEqual(["written by checkpoint 1"]);

      h.switchScenarios([
        writes(
          "second-row",
          "migrations/20260304000000_seed_second.ts",
          seedMigration("written by checkpoint 2"),
        ),
      ]);
      const followUp = await createFollowUp(h.db, testPreviewOrigins, h.userId, {
        projectId: created.project.id,
        taskId: created.task.id,
        prompt: "add a second todo",
      });
      const second = await runToEnd(followUp.id);
      expect(await titlesOn(second.id)).toEqual(["written by checkpoint 1", "written by checkpoint 2"]);
      const mainHead = await git(repoDir, "rev-parse", "refs/heads/main");
      expect(mainHead).toBe(second.commit_sha);

      h.switchScenarios([
        writes("task-note", "notes/dark-mode.md", ["# Dark mode", "", "Planned on its own task."]),
      ]);
      const task = await createTask(h.db, testPreviewOrigins, h.userId, {
        projectId: created.project.id,
        prompt: "plan a dark mode",
        fromRevisionId: first.id,
      });
      expect(task.task).toMatchObject({ branch: "task/plan-a-dark-mode-2", isMain: false });
      expect(task.revision).toMatchObject({
        ordinal: 1,
        taskId: task.task.id,
        agent: "codex",
        status: "queued",
      });
      const branched = await runToEnd(task.revision.id);

      // Checkpoint 1's data, not checkpoint 2's; the agent's work on top of checkpoint 1's commit, on its own branch.
      expect(await titlesOn(branched.id)).toEqual(["written by checkpoint 1"]);
      expect(await git(repoDir, "rev-parse", `${branched.commit_sha}^`)).toBe(first.commit_sha);
      expect(await git(repoDir, "rev-parse", `refs/heads/${task.task.branch}`)).toBe(branched.commit_sha);
      expect(await git(repoDir, "show", `${branched.commit_sha}:notes/dark-mode.md`)).toContain("Dark mode");
      const taskFiles = await git(repoDir, "ls-tree", "-r", "--name-only", branched.commit_sha ?? "");
      expect(taskFiles).not.toContain("20260304000000_seed_second.ts");
      // The main task did not move, and the first checkpoint's branch still holds only its own row.
      expect(await git(repoDir, "rev-parse", "refs/heads/main")).toBe(mainHead);
      expect(await titlesOn(second.id)).toEqual(["written by checkpoint 1", "written by checkpoint 2"]);
      // Its own share link: the replay of this task.
      const sessions = await h.db.selectFrom("session").select(["slug", "task_id"]).execute();
      expect(sessions.find((session) => session.task_id === task.task.id)?.slug).toBe(task.session.slug);
      expect(new Set(sessions.map((session) => session.slug)).size).toBe(2);

      // Promote: the task's checkpoint restored onto the main task.
      const promote = await createRestore(
        h.db,
        testPreviewOrigins,
        h.userId,
        branched.id,
        {},
        { ontoTaskId: created.task.id },
      );
      expect(promote).toMatchObject({
        ordinal: 3,
        taskId: created.task.id,
        kind: "restore",
        prompt: `Promote checkpoint 1 of ${task.task.branch}`,
      });
      const promoted = await runToEnd(promote.id);
      expect(await git(repoDir, "rev-parse", "refs/heads/main")).toBe(promoted.commit_sha);
      expect(await git(repoDir, "rev-parse", `${promoted.commit_sha}^`)).toBe(second.commit_sha);
      expect(await git(repoDir, "rev-parse", `${promoted.commit_sha}^{tree}`)).toBe(
        await git(repoDir, "rev-parse", `${branched.commit_sha}^{tree}`),
      );
      expect(await titlesOn(promoted.id)).toEqual(["written by checkpoint 1"]);
      // The task's branch stays where its checkpoint left it.
      expect(await git(repoDir, "rev-parse", `refs/heads/${task.task.branch}`)).toBe(branched.commit_sha);
    });
  },
);
