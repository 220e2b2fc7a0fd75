import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { announceServer } from "@/server/leases/server-presence";
import { revisionsToRecover } from "@/server/maintenance/recover-revisions";
import { type CarryOnDeps, carryOn, needsCarryOn } from "@/server/pipeline/carry-on";
import { runRevision } from "@/server/pipeline/run-revision";
import { type PipelineHarness, startPipelineHarness } from "../helpers/pipeline-harness";

// An app server dies in the middle of a build; its local sandbox dies with it (as bubblewrap's --die-with-parent
// makes it). Another server's recovery scan finds the revision and carries it on from what is stored: the agent
// runs again only when its work was never captured; a stored commit is previewed and finished with no agent turn.
// (tests/e2e/durability.spec.ts does the same with real server processes and SIGKILL.)

describe("recovery after an app server died, end to end on local adapters", { timeout: 600_000 }, () => {
  let h: PipelineHarness;

  beforeAll(async () => {
    h = await startPipelineHarness({ scenarios: ["plan-todo", "codex-todo-app"] });
  });

  afterAll(async () => {
    await h?.close();
  });

  /** Server A runs the build; its sandbox is recorded as dying with it. */
  async function startOnServerA(scenarios: string[]): Promise<string> {
    await announceServer(h.db, "server-a", 3_600_000);
    h.switchScenarios(scenarios);
    const created = await h.createProject("build a todo app");
    await runRevision({ ...h.deps, serverId: "server-a" }, created.revision.id);
    return created.revision.id;
  }

  /** Server A is gone: its sandbox stops, and it no longer says it is alive. */
  async function killServerA(revisionId: string): Promise<void> {
    await (await h.sandboxOf(await h.revision(revisionId)))?.stop();
    await h.db
      .updateTable("job_lease")
      .set({ expires_at: 0 })
      .where("name", "=", "server:server-a")
      .execute();
  }

  const serverB: () => CarryOnDeps = () => ({
    db: h.db,
    serverId: "server-b",
    pipelineDeps: async () => h.deps,
    runnerEventDeps: () => h.runnerDeps,
  });

  async function recoveryScan(): Promise<string[]> {
    return revisionsToRecover(h.db, (revision) =>
      needsCarryOn(h.db, revision, { now: Date.now(), queuedGraceMs: 60_000 }),
    );
  }

  it("finds nothing to do while the server running a build is alive", async () => {
    const id = await startOnServerA(["plan-todo", "slow-agent"]);
    await h.waitForEvent(id, "agent.command");
    expect(await recoveryScan()).not.toContain(id);
    await killServerA(id);
    expect(await recoveryScan()).toContain(id);
    // Left to the next case's scan would be confusing: finish it here.
    h.switchScenarios(["plan-todo", "codex-todo-app"]);
    await carryOn(serverB(), id);
    expect((await h.waitForEnd(id)).status).toBe("finished");
  });

  it("killed during generation: another server runs the agent again and the build finishes", async () => {
    const id = await startOnServerA(["plan-todo", "slow-agent"]);
    await h.waitForEvent(id, "agent.command");
    expect((await h.revision(id)).status).toBe("generating");
    await killServerA(id);

    h.switchScenarios(["plan-todo", "codex-todo-app"]);
    expect(await recoveryScan()).toEqual([id]);
    expect(await carryOn(serverB(), id)).toBe(true);
    const revision = await h.waitForEnd(id);
    expect(revision.status).toBe("finished");
    expect(revision.commit_sha).toMatch(/^[0-9a-f]{40}$/);
    expect(revision.preview_url).not.toBeNull();
    const events = await h.events(id);
    expect(
      events.some(
        (event) => event.type === "progress" && /Starting the agent again/.test(event.payload.message),
      ),
    ).toBe(true);
    // The plan was stored: it was not asked for twice.
    expect(events.filter((event) => event.type === "plan")).toHaveLength(1);
    expect(await recoveryScan()).not.toContain(id);
  });

  it("killed after the commit was stored: finished from the commit, with no second agent turn", async () => {
    const id = await startOnServerA(["plan-todo", "codex-todo-app"]);
    const committed = await h.waitFor(id, (revision) => revision.commit_sha !== null, 300_000);
    const turns = h.models.modelRequests().length;
    await killServerA(id);
    // Whatever the dead sandbox reported after its commit is void; wait until nothing more comes in.
    const before = await h.revision(id);
    if (before.status === "finished") {
      // The box was fast: the build ended before the kill. Nothing to recover, which is also right.
      expect(await recoveryScan()).not.toContain(id);
      return;
    }
    expect(await recoveryScan()).toEqual([id]);
    expect(await carryOn(serverB(), id)).toBe(true);
    const revision = await h.waitForEnd(id);
    expect(revision.status).toBe("finished");
    expect(revision.commit_sha).toBe(committed.commit_sha);
    expect(revision.preview_url).not.toBeNull();
    expect(h.models.modelRequests().length).toBe(turns);
  });

  it("killed during the deploy: another server deploys the stored commit and finishes it, with no agent turn", async () => {
    const id = await startOnServerA(["plan-todo", "codex-todo-app"]);
    const built = await h.waitForEnd(id);
    expect(built.status).toBe("finished");
    const turns = h.models.modelRequests().length;
    // Server A had entered the deploy when it died: the revision is stored at `deploying`, with nothing deployed.
    await h.db
      .updateTable("revision")
      .set({ status: "deploying", deploy_url: null, deployment_id: null, finished_at: null })
      .where("id", "=", id)
      .execute();
    await killServerA(id);

    expect(await recoveryScan()).toEqual([id]);
    const deploying: CarryOnDeps = {
      ...serverB(),
      pipelineDeps: async () => ({ ...h.deps, finish: { ...h.deps.finish, autoDeploy: true } }),
    };
    expect(await carryOn(deploying, id)).toBe(true);
    const revision = await h.revision(id);
    expect(revision.status).toBe("finished");
    expect(revision.deploy_url).not.toBeNull();
    const deployed = await fetch(revision.deploy_url ?? "");
    expect(deployed.status).toBe(200);
    expect(await deployed.text()).toMatch(/todo/i);
    expect(h.models.modelRequests().length).toBe(turns);
    expect(await recoveryScan()).not.toContain(id);
    await h.deps.providers.deployer.remove(revision.deployment_id ?? "");
  });
});
