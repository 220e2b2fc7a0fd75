import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, test } from "@playwright/test";
import { E2E_LEG } from "./env";
import { findConcurrentSteps, stepStartsAfter } from "./find-concurrent-steps";
import {
  fetchPreview,
  type KilnCluster,
  type KilnServer,
  type RevisionView,
  startKilnCluster,
  waitForAgentMidTurn,
} from "./kiln-cluster";
import { describeEvents, type LoggedEvent, TaskEventLog } from "./task-event-log";

// No build is lost (issue 10, docs/pipeline.md): any app server may die at any moment and another one (or the same
// one, restarted) carries its revisions on from their last completed step, and a step whose result is stored is
// never run again (generation above all: it costs money).
//
// These tests start Kiln servers of their own from the production build (tests/e2e/kiln-cluster.ts), never the
// leg's webServer, with a scripted model of their own whose calls they count, and SIGKILL a server's whole process
// group (its local sandboxes die with it) at chosen moments of a real build (Codex CLI, local adapters). One build
// per leg dies twice, which keeps the spec within a few minutes on a small box:
// - MySQL leg: servers A and B on one database, one data dir, one secret key, each with its own KILN_PUBLIC_URL (a
//   sandbox reaches the server that started it). The operator watches from B while A builds (a); A is killed
//   during generation and B carries the build on (b); A comes back, and B is killed once the commit is stored: A
//   finishes it without the agent running again (c).
// - libSQL leg (the embedded default): one server, killed during generation and restarted on the same data dir,
//   then killed once the commit is stored and restarted: the build finishes, without a second agent turn.
// On both, no step runs twice at once (d), read off the task's event log (find-concurrent-steps.ts says exactly
// what that means, and why a step redone after its server died is not a double run). The mysql-dev leg skips it.

/** Ports of their own (the legs' servers use 3210-3212): server A, server B, the scripted model and its control. */
const BASE_PORT = Number(process.env.KILN_E2E_DURABILITY_PORT ?? 3220);
/** Starting a cluster (servers one after the other, migrations, the operator's token), or stopping it. */
const CLUSTER_MS = 300_000;
/** From the build's start to `generating` with the agent mid-turn (plan, provision, toolchains on a new data dir). */
const REACH_MS = 240_000;
/** From a death to the revision's next event. The goal is 15 s (`npm run bench -- recovery`); fail fast past this. */
const MOVE_MS = 60_000;
/** From a death to the next milestone: the commit (generation runs again, migrate, the app's build) or the end. */
const CARRY_MS = 180_000;
/** Each agent call waits this long before its answer: the turn has seven, so a kill after the second is mid-turn. */
const SLOW_AGENT_MS = 1_000;
const SCRIPT = ["plan-todo", "codex-todo-app"];

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A failed revision fails the wait at once, with its reason. */
function stillRunning(revision: RevisionView): void {
  if (["finished", "failed", "cancelled"].includes(revision.status))
    throw new Error(
      `the build ended ${revision.status} too early${revision.error ? `: ${revision.error.message}` : ""}`,
    );
}

/** One build and the operator's view of it. `reader()` is the live server the operator uses. */
class Build {
  private constructor(
    readonly cluster: KilnCluster,
    readonly revisionId: string,
    readonly projectId: string,
    readonly log: TaskEventLog,
    readonly reader: () => KilnServer,
  ) {}

  /** A project created on `builder` (its build starts there), its task's events followed on `reader()`. */
  static async start(cluster: KilnCluster, builder: KilnServer, reader: () => KilnServer): Promise<Build> {
    const created = await cluster.api(builder).createProject("build a todo app");
    const log = new TaskEventLog({
      projectId: created.projectId,
      taskId: created.taskId,
      token: cluster.token,
      server: () => {
        const server = reader();
        return { url: server.url, name: server.name };
      },
    });
    return new Build(cluster, created.revisionId, created.projectId, log, reader);
  }

  revision(): Promise<RevisionView> {
    return this.cluster.api(this.reader()).revision(this.revisionId);
  }

  /** The revision is generating and the agent made two calls since `agentCallsBefore`: it is mid-turn. */
  untilAgentMidTurn(agentCallsBefore: number): Promise<RevisionView> {
    return waitForAgentMidTurn(() => this.cluster.api(this.reader()), this.cluster.model, {
      revisionId: this.revisionId,
      agentCallsBefore,
      timeoutMs: REACH_MS,
    });
  }

  /** The revision's commit is stored, and it has not finished yet. */
  untilCommitStored(timeoutMs: number): Promise<RevisionView> {
    return until("the commit to be stored", timeoutMs, async () => {
      const revision = await this.revision();
      stillRunning(revision);
      return revision.commitSha ? revision : undefined;
    });
  }

  /**
   * The revision moves again after a death: an event that happened after it (only a survivor, or the restarted
   * server, can record one), within MOVE_MS of the death, as the operator's stream shows it.
   */
  async movedAfter(diedAt: number): Promise<LoggedEvent> {
    const moved = await this.log.waitFor(
      "of the revision recorded after the death",
      (event) => event.revisionId === this.revisionId && event.at > diedAt,
      MOVE_MS,
    );
    test.info().annotations.push({
      type: "moved again after a death",
      description: `${moved.receivedAt - diedAt} ms until the stream showed ${moved.type} (goal ≤ 15 s)`,
    });
    return moved;
  }

  /** The revision's last status before `time`, as its log recorded it (ask once the log holds that moment). */
  statusAt(time: number): string | undefined {
    const statuses = this.log.events.filter(
      (event) => event.revisionId === this.revisionId && event.type === "revision.status" && event.at <= time,
    );
    const status = statuses.at(-1)?.payload.status;
    return typeof status === "string" ? status : undefined;
  }

  /** Finished, with a commit and a preview that answers (through the reader's front). */
  async expectFinished(): Promise<void> {
    const done = await this.cluster
      .api(this.reader())
      .waitForRevision(this.revisionId, "finished", (revision) => revision.status === "finished", CARRY_MS);
    expect(done.commitSha).toMatch(/^[0-9a-f]{40}$/);
    expect(done.previewUrl, "a finished checkpoint links its preview").toBeTruthy();
    const preview = await fetchPreview(done.previewUrl ?? "");
    expect(preview.status, "the preview answers").toBe(200);
    expect(preview.body).toMatch(/todo/i);
    await this.log.waitFor(
      "finished, in the log",
      (event) =>
        event.revisionId === this.revisionId &&
        event.type === "revision.status" &&
        event.payload.status === "finished",
      10_000,
    );
  }

  /** (d) No step ran twice at once (find-concurrent-steps.ts), servers having died at `deaths`. */
  expectNoConcurrentSteps(deaths: number[]): void {
    expect(
      findConcurrentSteps(this.log.events, deaths),
      `steps ran twice at once; the log:\n${describeEvents(this.log.events)}`,
    ).toEqual([]);
  }

  /** Generation did not start again after `time` (the commit was stored by then). */
  expectNoGenerationAfter(time: number): void {
    expect(
      stepStartsAfter(this.log.events, "generate", time),
      `generate started again after the commit was stored; the log:\n${describeEvents(this.log.events)}`,
    ).toEqual([]);
  }
}

/** The task's events and every server's log, attached to the test's report (what to read when it fails). */
async function attachEvidence(cluster: KilnCluster | undefined, build: Build | undefined): Promise<void> {
  if (build) await test.info().attach("task events", { body: describeEvents(build.log.events) });
  for (const server of cluster?.servers ?? []) {
    if (fs.existsSync(server.logFile))
      await test
        .info()
        .attach(`server ${server.name} log`, { body: fs.readFileSync(server.logFile, "utf8") });
  }
}

test.describe("durability: two servers on one MariaDB", () => {
  test.skip(
    E2E_LEG !== "mysql",
    "the mysql leg (production build) runs it; the libsql leg runs its own below",
  );
  test.describe.configure({ timeout: 900_000 });

  let cluster: KilnCluster | undefined;
  let build: Build | undefined;
  test.beforeAll(async () => {
    test.setTimeout(CLUSTER_MS);
    const serverUrl = process.env.KILN_TEST_MYSQL_URL;
    if (!serverUrl)
      throw new Error("the mysql leg needs KILN_TEST_MYSQL_URL (mysql://root@127.0.0.1:3306/test)");
    cluster = await startKilnCluster({
      name: "durability-mysql",
      mysql: { serverUrl, database: "kiln_e2e_durability" },
      ports: [BASE_PORT, BASE_PORT + 1],
      modelPort: BASE_PORT + 2,
    });
  });
  test.afterEach(() => attachEvidence(cluster, build));
  test.afterAll(async () => {
    test.setTimeout(CLUSTER_MS);
    await build?.log.close();
    const alive = cluster?.servers.find((server) => server.running);
    // Deleting the project tears its sandbox and preview down.
    if (cluster && alive && build) await cluster.api(alive).deleteProject(build.projectId);
    await cluster?.close();
  });

  test("(a) B streams A's build live; (b) A killed during generation, B carries it on; (c) B killed once the commit is stored, A finishes it with no second agent turn; (d) no step twice at once", async () => {
    if (!cluster) throw new Error("no cluster");
    const { model } = cluster;
    const [a, b] = cluster.servers;
    if (!a || !b) throw new Error("two servers expected");
    await model.switchScript(SCRIPT, { agentDelayMs: SLOW_AGENT_MS });
    const before = await model.calls();
    // The operator reads from B; from B's death on, from A.
    const current = await Build.start(cluster, a, () => (b.running ? b : a));
    build = current;

    await test.step("(a) the operator's stream on B shows A's build as it happens", async () => {
      await current.untilAgentMidTurn(before.agent);
      const seen = current.log.events.filter((e) => e.revisionId === current.revisionId);
      expect(seen.map((e) => e.type)).toContain("step.started");
      expect(
        seen.some((e) => e.type === "revision.status" && e.payload.status === "generating"),
        "B showed the revision generating",
      ).toBe(true);
      // The runner posts its events to A's webhook only: B has them from the shared database, within seconds.
      const fromRunner = seen.filter((e) => e.type.startsWith("runner.") || e.type.startsWith("agent."));
      expect(fromRunner.length, "B showed A's runner events while A ran the build").toBeGreaterThan(0);
      const worstLagMs = Math.max(...fromRunner.map((e) => e.receivedAt - e.at));
      test
        .info()
        .annotations.push({ type: "runner event → B's stream, worst", description: `${worstLagMs} ms` });
      expect(worstLagMs, "each runner event reached B's stream within 10 s: live, not a replay").toBeLessThan(
        10_000,
      );
    });

    const firstDeath =
      await test.step("(b) A killed during generation: B carries the build on to its commit, while A restarts", async () => {
        const atKill = await model.calls();
        const diedAt = await a.kill();
        await current.movedAfter(diedAt);
        expect(current.statusAt(diedAt), "A died during generation").toBe("generating");
        // A comes back (as a supervisor would bring it back, or a rolling upgrade) while B works: it must not
        // disturb B's build, and it is there to carry the build on when B dies in (c).
        await a.start();
        // The agent's work died with A's sandbox: it runs again, on B.
        await current.untilCommitStored(CARRY_MS);
        const agentCalls = (await model.calls()).agent - atKill.agent;
        test
          .info()
          .annotations.push({ type: "agent calls after A's death", description: String(agentCalls) });
        return diedAt;
      });

    const secondDeath =
      await test.step("(c) B killed once the commit is stored: A finishes it with no second agent turn", async () => {
        const revision = await current.untilCommitStored(CARRY_MS);
        const atKill = await model.calls();
        const diedAt = await b.kill();
        await current.movedAfter(diedAt);
        await current.expectFinished();
        expect(
          ["committing", "deploying"],
          `B died after the commit ${revision.commitSha}, before the end`,
        ).toContain(current.statusAt(diedAt));
        const after = await model.calls();
        expect(after.agent - atKill.agent, "no agent call after the commit was stored").toBe(0);
        current.expectNoGenerationAfter(diedAt);
        return diedAt;
      });

    await test.step("(d) no step ran twice at once", async () => {
      current.expectNoConcurrentSteps([firstDeath, secondDeath]);
    });
  });
});

test.describe("durability: the embedded default (libSQL), one server restarted", () => {
  test.skip(E2E_LEG !== "libsql", "the libsql leg runs it; the mysql leg runs the two-server version");
  test.describe.configure({ timeout: 900_000 });

  let cluster: KilnCluster | undefined;
  let build: Build | undefined;
  test.beforeAll(async () => {
    test.setTimeout(CLUSTER_MS);
    cluster = await startKilnCluster({
      name: "durability-libsql",
      ports: [BASE_PORT],
      modelPort: BASE_PORT + 2,
    });
  });
  test.afterEach(() => attachEvidence(cluster, build));
  test.afterAll(async () => {
    test.setTimeout(CLUSTER_MS);
    await build?.log.close();
    const server = cluster?.servers[0];
    if (cluster && server?.running && build) await cluster.api(server).deleteProject(build.projectId);
    await cluster?.close();
  });

  test("killed during generation and restarted: it carries on; killed once the commit is stored and restarted: it finishes with no second agent turn; no step twice at once", async () => {
    if (!cluster) throw new Error("no cluster");
    const { model } = cluster;
    const [server] = cluster.servers;
    if (!server) throw new Error("one server expected");
    await model.switchScript(SCRIPT, { agentDelayMs: SLOW_AGENT_MS });
    const before = await model.calls();
    const current = await Build.start(cluster, server, () => server);
    build = current;

    const firstDeath =
      await test.step("killed during generation, restarted: it carries the build on", async () => {
        await current.untilAgentMidTurn(before.agent);
        const diedAt = await server.kill();
        // At once, on the same data dir, as a supervisor (systemd, a container runtime) would.
        await server.start();
        await current.movedAfter(diedAt);
        await current.untilCommitStored(CARRY_MS);
        expect(current.statusAt(diedAt), "it died during generation").toBe("generating");
        return diedAt;
      });

    const secondDeath =
      await test.step("killed once the commit is stored, restarted: it finishes with no second agent turn", async () => {
        const revision = await current.untilCommitStored(CARRY_MS);
        const atKill = await model.calls();
        const diedAt = await server.kill();
        await server.start();
        await current.movedAfter(diedAt);
        await current.expectFinished();
        expect(
          ["committing", "deploying"],
          `it died after the commit ${revision.commitSha}, before the end`,
        ).toContain(current.statusAt(diedAt));
        const after = await model.calls();
        expect(after.agent - atKill.agent, "no agent call after the commit was stored").toBe(0);
        current.expectNoGenerationAfter(diedAt);
        return diedAt;
      });

    await test.step("no step ran twice at once", async () => {
      current.expectNoConcurrentSteps([firstDeath, secondDeath]);
    });
  });
});
