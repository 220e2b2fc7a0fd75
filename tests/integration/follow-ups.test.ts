import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createProject } from "@/server/operations/create-project";
import { createFollowUp, createRestore } from "@/server/revisions/create-revision";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf } from "../helpers/errors";
import { localProviderChoices } from "../helpers/local-providers";
import { testOperator } from "../helpers/operators";
import { testPreviewOrigins } from "../helpers/public-site";

const local = localProviderChoices;

describe.each(testDatabases)("follow-ups and restores on $name", (factory) => {
  let t: TestDatabase;
  let ada: string;
  let grace: string;
  let created: Awaited<ReturnType<typeof createProject>>;

  beforeEach(async () => {
    t = await factory.open();
    ada = (await testOperator(t.db, "ada@example.com")).id;
    grace = (await testOperator(t.db, "grace@example.com")).id;
    created = await createProject(t.db, ada, { prompt: "A todo app", agent: "claude-code" }, local);
  });
  afterEach(async () => {
    await t.drop();
  });

  const finish = (id: string, commit: string | null) =>
    t.db
      .updateTable("revision")
      .set({
        status: "finished",
        commit_sha: commit,
        db_branch_id: commit ? "dbb_x" : null,
        finished_at: Date.now(),
      })
      .where("id", "=", id)
      .execute();

  it("refuses a follow-up while a checkpoint of the task is still running", async () => {
    const error = await appErrorOf(
      createFollowUp(t.db, testPreviewOrigins, ada, {
        projectId: created.project.id,
        taskId: created.task.id,
        prompt: "Add tags",
      }),
    );
    expect([error.code, error.status]).toEqual(["conflict:revision_state", 409]);
    expect(error.message).toMatch(/Checkpoint 1 is still queued/);
  });

  it("builds a follow-up on the latest committed checkpoint, with the task's agent", async () => {
    await finish(created.revision.id, "a".repeat(40));
    const second = await createFollowUp(t.db, testPreviewOrigins, ada, {
      projectId: created.project.id,
      taskId: created.task.id,
      prompt: "Add tags",
    });
    expect(second).toMatchObject({
      ordinal: 2,
      kind: "prompt",
      status: "queued",
      agent: "claude-code",
      prompt: "Add tags",
    });
    const row = await t.db
      .selectFrom("revision")
      .selectAll()
      .where("id", "=", second.id)
      .executeTakeFirstOrThrow();
    expect(row.parent_revision_id).toBe(created.revision.id);
    expect(Number(row.input_tokens)).toBe(0);
  });

  it("keeps follow-ups private to the task's owner and validates the prompt", async () => {
    await finish(created.revision.id, "a".repeat(40));
    const foreign = await appErrorOf(
      createFollowUp(t.db, testPreviewOrigins, grace, {
        projectId: created.project.id,
        taskId: created.task.id,
        prompt: "Add tags",
      }),
    );
    expect(foreign.code).toBe("not_found:task");
    await expect(
      createFollowUp(t.db, testPreviewOrigins, ada, {
        projectId: created.project.id,
        taskId: created.task.id,
        prompt: " ",
      }),
    ).rejects.toThrow(/Describe the change/);
  });

  it("restores only a finished checkpoint with code and data, as a new checkpoint pointing back at it", async () => {
    const notYet = await appErrorOf(createRestore(t.db, testPreviewOrigins, ada, created.revision.id));
    expect(notYet.code).toBe("conflict:revision_state");
    await finish(created.revision.id, "b".repeat(40));
    expect((await appErrorOf(createRestore(t.db, testPreviewOrigins, grace, created.revision.id))).code).toBe(
      "not_found:revision",
    );
    const restore = await createRestore(t.db, testPreviewOrigins, ada, created.revision.id);
    expect(restore).toMatchObject({
      ordinal: 2,
      kind: "restore",
      prompt: "Restore checkpoint 1",
      restoredFromRevisionId: created.revision.id,
    });
    const busy = await appErrorOf(createRestore(t.db, testPreviewOrigins, ada, created.revision.id));
    expect(busy.message).toMatch(/Checkpoint 2 is still queued/);
  });
});
