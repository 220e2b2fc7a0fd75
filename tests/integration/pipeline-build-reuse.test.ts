import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Revision } from "@/server/db/schema";
import { deployRevision } from "@/server/pipeline/steps/deploy";
import { createRestore } from "@/server/revisions/create-revision";
import { type PipelineHarness, startPipelineHarness } from "../helpers/pipeline-harness";
import { testPreviewOrigins } from "../helpers/public-site";

// No tree is built twice (issue 13): the runner's verify step builds the checkpoint once; its deploy, and a restore's
// preview and deploy, serve that very build with `next start`. Observed from outside, on the real pipeline and local
// adapters: every `next build` writes a new random .next/BUILD_ID, so a deployment whose BUILD_ID is the one the
// runner verified did not build again. Deploy and restore times are printed for the before/after figures.

describe("deploy and restore reuse the verified build", { timeout: 900_000 }, () => {
  let h: PipelineHarness;
  let first: { revision: Revision; verifiedBuildId: string } | undefined;

  beforeAll(async () => {
    h = await startPipelineHarness({ scenarios: ["plan-todo", "codex-todo-app"], deploy: true });
  });

  afterAll(async () => {
    await h?.close();
  });

  function expectFinished(revision: Revision) {
    expect({ status: revision.status, error: revision.error_message }).toEqual({
      status: "finished",
      error: null,
    });
  }

  async function pageText(url: string | null): Promise<{ status: number; text: string }> {
    const page = await fetch(url ?? "http://127.0.0.1:1");
    return { status: page.status, text: (await page.text()).toLowerCase() };
  }

  /** The deployer's own record of a deployment (what an operator finds under the data dir). */
  function deploymentRecord(revision: Revision): { sandboxId: string | null; buildOutput?: string } {
    const file = path.join(h.dataDir, "deployments", `${revision.deployment_id}.json`);
    return JSON.parse(fs.readFileSync(file, "utf8"));
  }

  /** The BUILD_ID of the `.next` the deployment's server runs from. */
  async function deployedBuildId(revision: Revision): Promise<string | undefined> {
    const { sandboxId } = deploymentRecord(revision);
    const sandbox = sandboxId ? await h.providers.sandboxes.get(sandboxId) : null;
    return (await sandbox?.readFile(".next/BUILD_ID"))?.toString();
  }

  /** From the revision entering `deploying` to `finished`, from the stored events. */
  async function deploySeconds(revisionId: string): Promise<number> {
    const rows = await h.db
      .selectFrom("event")
      .select(["payload", "created_at"])
      .where("revision_id", "=", revisionId)
      .where("type", "=", "revision.status")
      .execute();
    const at = (status: string) =>
      Number(rows.find((row) => JSON.parse(row.payload).status === status)?.created_at);
    return (at("finished") - at("deploying")) / 1000;
  }

  it("a new checkpoint deploys the build its runner verified, with no second `next build`", async () => {
    const created = await h.createProject("build a todo app");
    await h.run(created.revision.id);
    const revision = await h.waitForEnd(created.revision.id, 600_000);
    expect(h.platform.errors).toEqual([]);
    expectFinished(revision);
    console.log(`[build-reuse] new project: deploy ${(await deploySeconds(revision.id)).toFixed(1)} s`);

    // The build the runner's verify step made, still in the checkpoint's sandbox.
    const verifiedBuildId = (await (await h.sandboxOf(revision))?.readFile(".next/BUILD_ID"))?.toString();
    expect(verifiedBuildId).toMatch(/\S/);
    first = { revision, verifiedBuildId: verifiedBuildId ?? "" };

    const deployed = await pageText(revision.deploy_url);
    expect(deployed.status).toBe(200);
    expect(deployed.text).toContain("todo");
    expect(await (await fetch(`${revision.deploy_url}/api/health`)).json()).toEqual({ ok: true, db: "up" });
    expect(await deployedBuildId(revision)).toBe(verifiedBuildId);
    expect(deploymentRecord(revision).buildOutput).toBe("verified");
  });

  it("a restore previews and deploys its checkpoint's stored build, with no build at all", async () => {
    if (!first) throw new Error("the first build did not run");
    const restore = await createRestore(h.db, testPreviewOrigins, h.userId, first.revision.id);
    await h.run(restore.id);
    const restored = await h.waitForEnd(restore.id, 600_000);
    expectFinished(restored);
    const total = (Number(restored.finished_at) - Number(restored.created_at)) / 1000;
    console.log(
      `[build-reuse] restore: finished ${total.toFixed(1)} s after it was created, deploy ${(await deploySeconds(restored.id)).toFixed(1)} s`,
    );

    // The preview: `next start` on the restored checkpoint's verified build (a dev server has no BUILD_ID).
    const preview = await pageText(restored.preview_url);
    expect(preview.status).toBe(200);
    expect(preview.text).toContain("todo");
    const restoreSandbox = await h.sandboxOf(restored);
    expect((await restoreSandbox?.readFile(".next/BUILD_ID"))?.toString()).toBe(first.verifiedBuildId);

    const deployed = await pageText(restored.deploy_url);
    expect(deployed.status).toBe(200);
    expect(deployed.text).toContain("todo");
    expect(await deployedBuildId(restored)).toBe(first.verifiedBuildId);
    expect(deploymentRecord(restored).buildOutput).toBe("verified");
  });

  it("a checkpoint with no stored build (made before builds were kept) still deploys by building it", async () => {
    if (!first) throw new Error("the first build did not run");
    const before = await h.revision(first.revision.id);
    if (before.deployment_id) await h.providers.deployer.remove(before.deployment_id);
    await h.db
      .updateTable("revision")
      .set({ build_key: null, deploy_url: null, deployment_id: null })
      .where("id", "=", first.revision.id)
      .execute();

    const url = await deployRevision({ db: h.db, key: h.key, providers: h.providers }, first.revision.id);
    const redeployed = await h.revision(first.revision.id);
    const page = await pageText(url);
    expect(page.status).toBe(200);
    expect(page.text).toContain("todo");
    const rebuiltId = await deployedBuildId(redeployed);
    expect(rebuiltId).toMatch(/\S/);
    expect(rebuiltId).not.toBe(first.verifiedBuildId);
    expect(deploymentRecord(redeployed).buildOutput).toBe("built");
  });
});
