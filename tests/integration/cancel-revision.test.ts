import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkpointStatus, groupEvents, withCheckpoints } from "@/components/conversation/group-events";
import { createOperator } from "@/server/auth/operators";
import { appendPlatformEvent } from "@/server/events/append";
import type { EventBody } from "@/server/events/schema";
import { cancelRevisionAndRecord } from "@/server/operations/cancel-revision";
import { createProject } from "@/server/operations/create-project";
import type { RevisionStatus } from "@/server/revisions/state-machine";
import { transitionRevision } from "@/server/revisions/transition";
import { getShareLink } from "@/server/share-links/share-link";
import { getSharedSession } from "@/server/share-links/shared-session";
import { getWorkspace } from "@/server/tasks/workspace";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { localProviderChoices } from "../helpers/local-providers";
import { testPreviewOrigins, testPublicSite, testPublicUrl } from "../helpers/public-site";

// Cancel (issue 12): the cancel is in the event log like every other transition, so the live stream, a reloaded
// workspace and the public replay all show the checkpoint cancelled, not still migrating.

describe.each(testDatabases)("cancelling a checkpoint on $name", (factory) => {
  let t: TestDatabase;
  let ada: { id: string };
  let created: Awaited<ReturnType<typeof createProject>>;

  beforeEach(async () => {
    t = await factory.open();
    ada = await createOperator(
      t.db,
      { email: "ada@example.com", password: "correct horse battery" },
      { bcryptCost: 4 },
    );
    created = await createProject(t.db, ada.id, { prompt: "A guestbook" }, localProviderChoices);
  });
  afterEach(async () => {
    await t.drop();
  });

  const scope = () => ({
    projectId: created.project.id,
    taskId: created.task.id,
    revisionId: created.revision.id,
  });
  const emit = (body: EventBody) => appendPlatformEvent(t.db, { ...scope(), body });

  /** The pipeline's way forward: the stored status, then its event. */
  async function moveTo(status: RevisionStatus) {
    const row = await t.db
      .selectFrom("revision")
      .selectAll()
      .where("id", "=", created.revision.id)
      .executeTakeFirstOrThrow();
    expect(await transitionRevision(t.db, row, status)).toBe(true);
    await emit({ type: "revision.status", payload: { status } });
  }

  async function reloadedWorkspace() {
    const workspace = await getWorkspace(
      t.db,
      testPreviewOrigins,
      ada.id,
      created.project.id,
      created.task.id,
    );
    const ordinals = new Map(workspace.revisions.map((revision) => [revision.id, revision.ordinal]));
    const [group] = groupEvents(withCheckpoints(workspace.events, ordinals));
    return { workspace, group };
  }

  it("emits the cancel: the workspace header, its badge, the step bar and the replay all end", async () => {
    await moveTo("provisioning");
    await emit({ type: "step.started", payload: { step: "provision" } });
    await emit({ type: "step.finished", payload: { step: "provision", durationMs: 1_000 } });
    await moveTo("migrating");
    await emit({ type: "step.started", payload: { step: "migrate" } });

    const before = await reloadedWorkspace();
    expect(before.group && checkpointStatus(before.group)).toBe("migrating");

    const cancelled = await cancelRevisionAndRecord(t.db, testPreviewOrigins, ada.id, created.revision.id);
    expect(cancelled.status).toBe("cancelled");

    // A reload: the stored status (the header) and the events (badge, step bar) say the same.
    const { workspace, group } = await reloadedWorkspace();
    expect(workspace.revisions.map((revision) => revision.status)).toEqual(["cancelled"]);
    expect(workspace.events.at(-1)).toMatchObject({
      type: "revision.status",
      payload: { status: "cancelled", reason: "Cancelled by the operator." },
    });
    expect(group && checkpointStatus(group)).toBe("cancelled");
    const steps = Object.fromEntries((group?.steps ?? []).map((step) => [step.step, step.state]));
    expect(steps).toMatchObject({ provision: "done", migrate: "cancelled", deploy: "skipped" });
    expect(group?.items.at(-1)).toMatchObject({ kind: "ended", status: "cancelled" });

    // The pipeline's step may still report finishing its work: the checkpoint stays cancelled.
    await emit({ type: "step.finished", payload: { step: "migrate", durationMs: 5_000 } });
    const late = await reloadedWorkspace();
    expect(late.group?.steps.find((step) => step.step === "migrate")?.state).toBe("cancelled");
    expect(late.group && checkpointStatus(late.group)).toBe("cancelled");

    // The replay: not live any more, and its events end with the cancel.
    const link = await getShareLink(t.db, testPublicUrl, ada.id, created.task.id);
    const shared = await getSharedSession(t.db, testPublicSite, link.slug);
    expect(shared.live).toBe(false);
    const [replayed] = groupEvents(shared.events);
    expect(replayed && checkpointStatus(replayed)).toBe("cancelled");
    expect(replayed?.steps.some((step) => step.state === "running")).toBe(false);
  });

  it("records a cancel once: a second cancel is a conflict and adds no event", async () => {
    await moveTo("generating");
    await cancelRevisionAndRecord(t.db, testPreviewOrigins, ada.id, created.revision.id);
    await expect(
      cancelRevisionAndRecord(t.db, testPreviewOrigins, ada.id, created.revision.id),
    ).rejects.toMatchObject({ code: "conflict:revision_state" });
    const { workspace } = await reloadedWorkspace();
    expect(
      workspace.events.filter(
        (event) => event.type === "revision.status" && event.payload.status === "cancelled",
      ),
    ).toHaveLength(1);
  });
});
