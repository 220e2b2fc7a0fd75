import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findDbBranch } from "@/server/db/queries/pipeline";
import type { Revision } from "@/server/db/schema";
import { decryptBranchConnection } from "@/server/integrations/database-branches/branch-connection";
import { redeployRevision } from "@/server/pipeline/redeploy-revision";
import { publicPreviewUrl } from "@/server/previews/preview-origin";
import { requestRedeploy } from "@/server/revisions/redeploy-request";
import { describeRevisionDeployment } from "@/server/revisions/revision-deployment";
import type { ScenarioInput } from "../fakes/model-server";
import { appErrorOf } from "../helpers/errors";
import { type PipelineHarness, startPipelineHarness } from "../helpers/pipeline-harness";
import { testPreviewOrigins } from "../helpers/public-site";
import { waitUntil } from "../helpers/wait-until";

// Redeploy (issue 15): an operator redeploys a finished checkpoint whose deployment stopped (a platform restart
// stops local deployments); a new deployment serves the checkpoint, and its build and start log is there to read,
// without the DATABASE_URL it was given, which the app prints as it starts. Real pipeline, local adapters, the
// scripted model; the redeploy runs as POST /api/v1/revisions/:id/deploy runs it after its 202 (schedule.ts).

/** The todo app, plus an instrumentation hook that prints the app's DATABASE_URL when its server starts. */
const printsItsDatabaseUrl: ScenarioInput = {
  name: "prints-database-url",
  turns: [
    {
      when: { step: 6 },
      reply: {
        kind: "write",
        path: "src/instrumentation.ts",
        content: [
          "export function register() {",
          '  console.log("[app] starting with DATABASE_URL=" + process.env.DATABASE_URL);',
          "}",
          "",
        ].join("\n"),
      },
    },
  ],
};

describe("redeploying a finished checkpoint", { timeout: 900_000 }, () => {
  let h: PipelineHarness;

  beforeAll(async () => {
    h = await startPipelineHarness({
      scenarios: [printsItsDatabaseUrl, "plan-todo", "codex-todo-app"],
      deploy: true,
    });
  });

  afterAll(async () => {
    await h?.close();
  });

  async function databaseUrlOf(revision: Revision): Promise<string> {
    const row = revision.db_branch_id ? await findDbBranch(h.db, revision.db_branch_id) : undefined;
    if (!row?.connection_ciphertext) throw new Error("the checkpoint has no database branch");
    return decryptBranchConnection(h.key, row.id, row.connection_ciphertext).databaseUrl;
  }

  function deploymentRecord(id: string | null): { sandboxId: string | null } {
    return JSON.parse(fs.readFileSync(path.join(h.dataDir, "deployments", `${id}.json`), "utf8"));
  }

  const describeDeployment = (revisionId: string) =>
    describeRevisionDeployment(
      { db: h.db, key: h.key, origins: testPreviewOrigins },
      h.userId,
      revisionId,
      async () => h.providers.deployer,
    );

  it("makes a new deployment that serves the checkpoint, with its log and no DATABASE_URL in it", async () => {
    const created = await h.createProject("build a todo app");
    await h.run(created.revision.id);
    const finished = await h.waitForEnd(created.revision.id, 600_000);
    expect({ status: finished.status, error: finished.error_message }).toEqual({
      status: "finished",
      error: null,
    });
    const databaseUrl = await databaseUrlOf(finished);
    const first = finished.deployment_id;
    expect(first).toMatch(/^ldp_/);

    // The deployment's server stops, as a platform restart stops it: its error names the way back.
    const { sandboxId } = deploymentRecord(first);
    await (sandboxId ? await h.providers.sandboxes.get(sandboxId) : null)?.stop();
    const stopped = await describeDeployment(finished.id);
    expect(stopped).toMatchObject({ id: first, state: "error", url: null });
    expect(stopped.error).toContain("press Redeploy on the checkpoint");

    // The request's checks take the checkpoint's deploy lease; the redeploy runs after the response.
    const { leaseOwner } = await requestRedeploy(h.db, testPreviewOrigins, h.userId, finished.id);
    const redeploy = redeployRevision(
      { db: h.db, key: h.key, providers: h.providers },
      finished.id,
      leaseOwner,
    );
    // A second redeploy of it while this one runs is refused.
    const second = await appErrorOf(requestRedeploy(h.db, testPreviewOrigins, h.userId, finished.id));
    expect(second.code).toBe("conflict:revision_state");
    expect(second.message).toContain("already being deployed");
    expect((await describeDeployment(finished.id)).redeploying).toBe(true);
    await redeploy;

    const redeployed = await h.revision(finished.id);
    expect(redeployed.status).toBe("finished");
    expect(redeployed.deployment_id).toMatch(/^ldp_/);
    expect(redeployed.deployment_id).not.toBe(first);
    // The new deployment serves the checkpoint: its page and its database.
    const page = await fetch(redeployed.deploy_url ?? "http://127.0.0.1:1");
    expect(page.status).toBe(200);
    expect((await page.text()).toLowerCase()).toContain("todo");
    expect(await (await fetch(`${redeployed.deploy_url}/api/health`)).json()).toEqual({ ok: true, db: "up" });
    // The stopped one is retired: the checkpoint holds one deployment.
    expect(await h.providers.deployer.getDeployment(first ?? "")).toBeNull();

    // Its state and log, as GET /api/v1/revisions/:id/deployment answers them.
    await waitUntil(
      async () =>
        (await describeDeployment(finished.id)).log.lines.some((line) => line.includes("[app] starting")),
      "the app's start line in the deployment log",
      30_000,
    );
    const shown = await describeDeployment(finished.id);
    expect(shown).toMatchObject({
      id: redeployed.deployment_id,
      state: "ready",
      url: publicPreviewUrl(
        testPreviewOrigins,
        { kind: "deploy", revisionId: finished.id },
        redeployed.deploy_url,
      ),
      error: null,
      redeploying: false,
    });
    expect(shown.url).toMatch(/^http:\/\/d-[0-9a-f]{32}\.localhost/);
    expect(shown.log.lines).toContain("$ npm run start");
    expect(shown.log.lines).toContain("[app] starting with DATABASE_URL=[redacted]");
    expect(JSON.stringify(shown)).not.toContain(databaseUrl);
    // As the deployer keeps it on disk, for after a restart.
    await waitUntil(
      () =>
        fs
          .readFileSync(path.join(h.dataDir, "deployments", `${redeployed.deployment_id}.log.json`), "utf8")
          .includes("[app] starting"),
      "the deployment log on disk",
    );
    const onDisk = fs.readFileSync(
      path.join(h.dataDir, "deployments", `${redeployed.deployment_id}.log.json`),
      "utf8",
    );
    expect(onDisk).not.toContain(databaseUrl);

    // The checkpoint's events say what happened.
    const messages = (await h.events(finished.id)).flatMap((event) =>
      event.type === "progress" ? [event.payload.message] : [],
    );
    expect(messages).toContain("Redeploying checkpoint 1…");
    expect(messages.some((message) => message.startsWith("Redeployed: "))).toBe(true);
    expect(JSON.stringify(messages)).not.toContain(databaseUrl);
  });
});
