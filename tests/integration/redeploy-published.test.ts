import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { encryptSecret } from "@/server/crypto/encryption";
import { setProjectPublicationOfUser } from "@/server/db/queries/projects";
import { newId } from "@/server/ids";
import { createVercelDeployer } from "@/server/integrations/deployer/vercel";
import { type CreatedProject, createProject } from "@/server/operations/create-project";
import { deployRevision } from "@/server/pipeline/steps/deploy";
import { publicationAlias } from "@/server/publishing/publication-alias";
import { type FakeVercelDeployments, startFakeVercelDeployments } from "../fakes/vercel-deployments";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { localProviderChoices, localProvidersAt } from "../helpers/local-providers";
import { testOperator } from "../helpers/operators";

// A redeploy of the published checkpoint on Vercel (the operator's Redeploy, e.g. after changing the app's
// variables): the project's stable URL is a Vercel alias, which names one deployment, so it must move to the new
// deployment; otherwise the published app keeps serving the old one. Against the wire-level Vercel fake.

const token = "vcp_fakeREDEPLOYtoken0000000000001";
const teamId = "team_kilnFake000000000001";
const vercelProjectId = "prj_kilnFakeApps0000000001";
const sha = "0123456789abcdef0123456789abcdef01234567";
const key = Buffer.alloc(32, 7);

let fake: FakeVercelDeployments;
beforeAll(async () => {
  fake = await startFakeVercelDeployments({
    token,
    teams: [{ id: teamId, slug: "kiln" }],
    projects: [{ id: vercelProjectId, name: "kiln-apps", accountId: teamId }],
    repos: ["kiln-apps/guestbook"],
  });
});
afterAll(async () => {
  await fake?.close();
});

describe.each(testDatabases)("redeploying the published checkpoint on Vercel, on $name", (factory) => {
  let t: TestDatabase;
  let dir: string;
  let ada: string;
  let created: CreatedProject;
  const deployer = () =>
    createVercelDeployer({
      token,
      teamId,
      projectId: vercelProjectId,
      apiUrl: fake.url,
      pollIntervalMs: 5,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 20))),
    });
  const context = () => ({
    db: t.db,
    key,
    providers: { ...localProvidersAt(dir), deployer: deployer() },
    deployTimeoutMs: 10_000,
  });

  beforeEach(async () => {
    t = await factory.open();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-redeploy-published-test-"));
    ada = (await testOperator(t.db, "ada@example.com")).id;
    const choices = { ...localProviderChoices, git: "github", deploy: "vercel" } as const;
    created = await createProject(t.db, ada, { prompt: "A guestbook" }, choices);
    await t.db
      .updateTable("project")
      .set({
        repo_full_name: "kiln-apps/guestbook",
        repo_url: "https://github.com/kiln-apps/guestbook",
        default_branch: "main",
      })
      .where("id", "=", created.project.id)
      .execute();
    // The checkpoint's database branch, stored the way provisioning stores it.
    const branchId = newId("dbBranch");
    const connection = { databaseUrl: "mysql://app:pw@db.example.com:4000/app", hostPaths: [] };
    await t.db
      .insertInto("db_branch")
      .values({
        id: branchId,
        project_id: created.project.id,
        provider: "tidbcloud",
        external_id: "r1-branch",
        name: "r1-branch",
        parent_branch_id: null,
        status: "active",
        connection_ciphertext: encryptSecret(key, JSON.stringify(connection), `db_branch:${branchId}`),
        created_at: Date.now(),
        updated_at: Date.now(),
        deleted_at: null,
      })
      .execute();
    await t.db
      .updateTable("revision")
      .set({ status: "finished", commit_sha: sha, db_branch_id: branchId })
      .where("id", "=", created.revision.id)
      .execute();
  });
  afterEach(async () => {
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("moves the project's stable alias to the new deployment", async () => {
    const revisionId = created.revision.id;
    await deployRevision(context(), revisionId);
    const first = await t.db
      .selectFrom("revision")
      .selectAll()
      .where("id", "=", revisionId)
      .executeTakeFirstOrThrow();
    expect(first.deployment_id).toBeTruthy();
    // Published as the Publish operation does: the alias on the deployment, the publication on the project.
    const project = await t.db
      .selectFrom("project")
      .selectAll()
      .where("id", "=", created.project.id)
      .executeTakeFirstOrThrow();
    const alias = publicationAlias(project);
    const { url } = await deployer().publish(first.deployment_id ?? "", alias);
    const publication = { revisionId, url: url ?? "", at: Date.now() };
    expect(await setProjectPublicationOfUser(t.db, ada, created.project.id, publication)).toBe(true);
    expect(fake.aliases.get(`${alias}.vercel.app`)?.deploymentId).toBe(first.deployment_id);

    await deployRevision(context(), revisionId, { redeploy: true });

    const after = await t.db
      .selectFrom("revision")
      .selectAll()
      .where("id", "=", revisionId)
      .executeTakeFirstOrThrow();
    expect(after.deployment_id).not.toBe(first.deployment_id);
    expect(fake.aliases.get(`${alias}.vercel.app`)?.deploymentId).toBe(after.deployment_id);
  });

  it("leaves the alias alone when the checkpoint redeployed is not the published one", async () => {
    const revisionId = created.revision.id;
    await deployRevision(context(), revisionId);
    const before = fake.aliases.size;
    await deployRevision(context(), revisionId, { redeploy: true });
    expect(fake.aliases.size).toBe(before);
  });
});
