import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOperator } from "@/server/auth/operators";
import { findSilentRevisions } from "@/server/db/queries/revisions";
import { createProject } from "@/server/operations/create-project";
import { cancelRevision, getRevisionOrThrow, listTaskRevisions } from "@/server/revisions/revision-queries";
import { runningStatuses } from "@/server/revisions/state-machine";
import { transitionRevision } from "@/server/revisions/transition";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf } from "../helpers/errors";
import { localProviderChoices } from "../helpers/local-providers";
import { testPreviewOrigins } from "../helpers/public-site";

const local = localProviderChoices;

describe.each(testDatabases)("revisions on $name", (factory) => {
  let t: TestDatabase;
  let ada: { id: string };
  let grace: { id: string };
  let created: Awaited<ReturnType<typeof createProject>>;

  beforeEach(async () => {
    t = await factory.open();
    ada = await createOperator(
      t.db,
      { email: "ada@example.com", password: "correct horse battery" },
      { bcryptCost: 4 },
    );
    grace = await createOperator(
      t.db,
      { email: "grace@example.com", password: "correct horse battery" },
      { bcryptCost: 4 },
    );
    created = await createProject(t.db, ada.id, { prompt: "A todo app" }, local);
  });
  afterEach(async () => {
    await t.drop();
  });

  it("lists a task's revisions and reads one, for their owner only", async () => {
    const revisions = await listTaskRevisions(
      t.db,
      testPreviewOrigins,
      ada.id,
      created.project.id,
      created.task.id,
    );
    expect(revisions.map((r) => [r.ordinal, r.status, r.prompt])).toEqual([[1, "queued", "A todo app"]]);
    expect((await getRevisionOrThrow(t.db, testPreviewOrigins, ada.id, created.revision.id)).usage).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      cachedTokens: 0,
      costUsd: 0,
      estimated: false,
    });
    expect(
      (await appErrorOf(getRevisionOrThrow(t.db, testPreviewOrigins, grace.id, created.revision.id))).code,
    ).toBe("not_found:revision");
    expect(
      (
        await appErrorOf(
          listTaskRevisions(t.db, testPreviewOrigins, grace.id, created.project.id, created.task.id),
        )
      ).code,
    ).toBe("not_found:task");
  });

  it("moves forward with start and finish times, and refuses illegal moves", async () => {
    const queued = await getRow();
    expect(await transitionRevision(t.db, queued, "planning", { now: 1_000 })).toBe(true);
    const planning = await getRow();
    expect([planning.status, planning.step, planning.started_at]).toEqual(["planning", "plan", 1_000]);
    expect((await appErrorOf(transitionRevision(t.db, planning, "queued"))).code).toBe(
      "conflict:revision_state",
    );
    expect(
      await transitionRevision(t.db, planning, "failed", { reason: "The model refused.", now: 2_000 }),
    ).toBe(true);
    const failed = await getRow();
    expect([failed.status, failed.step, failed.error_message, failed.finished_at]).toEqual([
      "failed",
      null,
      "The model refused.",
      2_000,
    ]);
  });

  it("lets exactly one of two concurrent writers win a transition", async () => {
    const queued = await getRow();
    const results = await Promise.all([
      transitionRevision(t.db, queued, "planning"),
      transitionRevision(t.db, queued, "cancelled", { reason: "stop" }),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("cancels a running revision once; a second cancel is a conflict; others cannot cancel it", async () => {
    expect(
      (await appErrorOf(cancelRevision(t.db, testPreviewOrigins, grace.id, created.revision.id))).code,
    ).toBe("not_found:revision");
    const cancelled = await cancelRevision(t.db, testPreviewOrigins, ada.id, created.revision.id);
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.error?.message).toBe("Cancelled by the operator.");
    const again = await appErrorOf(cancelRevision(t.db, testPreviewOrigins, ada.id, created.revision.id));
    expect([again.code, again.status]).toEqual(["conflict:revision_state", 409]);
  });

  it("finds running revisions that went silent, not terminal or lively ones", async () => {
    const now = Date.now();
    await t.db
      .updateTable("revision")
      .set({ status: "generating", heartbeat_at: now - 600_000 })
      .execute();
    const lively = await createProject(t.db, ada.id, { prompt: "A chess clock" }, local);
    await t.db
      .updateTable("revision")
      .set({ status: "generating", heartbeat_at: now })
      .where("id", "=", lively.revision.id)
      .execute();
    const silent = await findSilentRevisions(t.db, runningStatuses, now - 300_000);
    expect(silent.map((r) => r.id)).toEqual([created.revision.id]);
  });

  async function getRow() {
    return t.db
      .selectFrom("revision")
      .selectAll()
      .where("id", "=", created.revision.id)
      .executeTakeFirstOrThrow();
  }
});
