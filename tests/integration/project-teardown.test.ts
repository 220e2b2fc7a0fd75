import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { updateProjectRow } from "@/server/db/queries/pipeline";
import { encryptWebhookSecret, newWebhookSecret } from "@/server/events/webhook-secret";
import { newId } from "@/server/ids";
import type { Providers } from "@/server/integrations/registry";
import type { SandboxHandle } from "@/server/integrations/sandboxes/port";
import { type CreatedProject, createProject } from "@/server/operations/create-project";
import { findProjectLeftovers, tearDownProject } from "@/server/operations/teardown-project";
import { deleteProject } from "@/server/projects/project-queries";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { localProviderChoices, localProvidersAt } from "../helpers/local-providers";
import { testOperator } from "../helpers/operators";

// Deleting a project removes what it holds outside the control plane, for real on local adapters: the preview's
// process dies, the database root (every branch) and the local repository are gone, and so are its blobs.

const local = localProviderChoices;

describe.each(testDatabases)("tearing down a deleted project on $name", (factory) => {
  let t: TestDatabase;
  let dataDir: string;
  let providers: Providers;
  let ada: string;
  let created: CreatedProject;
  const handles: SandboxHandle[] = [];

  beforeEach(async () => {
    t = await factory.open();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-teardown-"));
    providers = localProvidersAt(dataDir);
    ada = (await testOperator(t.db, "ada@example.com")).id;
    created = await createProject(t.db, ada, { prompt: "A todo app" }, local);
  });
  afterEach(async () => {
    await Promise.allSettled(handles.splice(0).map((handle) => handle.stop()));
    await t.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** The project as the pipeline leaves it: a repository, a database root, a running preview, saved blobs. */
  async function provisioned() {
    const template = fs.mkdtempSync(path.join(dataDir, "template-"));
    fs.writeFileSync(path.join(template, "README.md"), "# app\n");
    const { repo } = await providers.git.createRepo({
      name: "todo-app",
      description: "A todo app",
      templateDir: template,
    });
    const { root } = await providers.database.createRoot({ name: "p-todo" });
    await updateProjectRow(t.db, created.project.id, {
      repo_full_name: repo.fullName,
      repo_url: repo.webUrl,
      default_branch: repo.defaultBranch,
      db_root_id: root.id,
      db_root_name: root.name,
    });
    const sandbox = await providers.sandboxes.create({
      name: `teardown-${Math.random().toString(36).slice(2, 8)}`,
      source: { kind: "empty" },
      ports: [],
      env: {},
      timeoutMs: 600_000,
    });
    handles.push(sandbox);
    await sandbox.runDetached({ cmd: "sleep", args: ["600"] });
    const sandboxRowId = newId("sandbox");
    const now = Date.now();
    await t.db
      .insertInto("sandbox")
      .values({
        id: sandboxRowId,
        project_id: created.project.id,
        provider: "local",
        external_id: sandbox.id,
        status: "running",
        webhook_secret_ciphertext: encryptWebhookSecret(
          Buffer.alloc(32, 7),
          sandboxRowId,
          newWebhookSecret(),
        ),
        preview_url: null,
        last_event_at: now,
        created_at: now,
        updated_at: now,
        stopped_at: null,
      })
      .execute();
    const revisionId = created.revision.id;
    await providers.blob.put(`screenshots/${revisionId}.png`, Buffer.from("png"));
    await providers.blob.put(`sessions/${revisionId}/rollout.jsonl`, "{}");
    await providers.blob.put(`sessions/${revisionId}.json`, "{}");
    return { repo, root, sandbox };
  }

  it("stops the preview, deletes the database and the local repository, and removes the blobs", async () => {
    const { repo, root, sandbox } = await provisioned();
    expect(await sandbox.isAlive()).toBe(true);
    expect((await providers.blob.list("", {})).items).toHaveLength(3);
    expect(await providers.git.resolveRef(repo, "main")).toMatch(/^[0-9a-f]{40}$/);

    const leftovers = await findProjectLeftovers(t.db, ada, created.project.id);
    if (!leftovers) throw new Error("the owner's project was not found");
    expect(leftovers.sandboxIds).toEqual([sandbox.id]);
    await deleteProject(t.db, ada, created.project.id);
    expect(await tearDownProject(providers, leftovers)).toEqual([]);

    expect(await sandbox.isAlive()).toBe(false);
    await expect(providers.database.listBranches(root)).rejects.toMatchObject({ kind: "not_found" });
    await expect(providers.git.resolveRef(repo, "main")).rejects.toMatchObject({ kind: "not_found" });
    expect(await providers.blob.list("", {})).toMatchObject({ items: [] });
  });

  it("another operator's project yields nothing to tear down", async () => {
    const grace = await testOperator(t.db, "grace@example.com");
    expect(await findProjectLeftovers(t.db, grace.id, created.project.id)).toBeUndefined();
  });
});
