import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createApiToken } from "@/server/auth/api-tokens";
import { createOperator } from "@/server/auth/operators";
import type { Database } from "@/server/db/connection";
import { createGitHubGitHost } from "@/server/integrations/git-host/github";
import { ensureRepo, type ProvisionContext } from "@/server/pipeline/steps/provision";
import { type FakeGitHub, startFakeGitHub } from "../fakes/github";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { commitAll, writeScriptsRepo, writeShopApp } from "../helpers/importable-repos";
import { localProvidersAt } from "../helpers/local-providers";
import { TEMPLATE_DIR } from "../helpers/template";

// Importing a repository as a project (docs/import.md) through `POST /api/v1/projects` and
// `GET /api/v1/github/repos`, called as Next.js calls them with a real API token: a local repository (under
// KILN_IMPORT_ROOTS) and a GitHub repository on a wire fake are fetched, fit-checked and recorded before anything is
// created; provisioning then creates the project's repository from the imported commit. What does not fit or must
// not be fetched is refused with the precise reason, and nothing is created. That these projects build is
// pipeline-import.test.ts.

const scheduled: Array<() => unknown> = [];
vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  // The pipeline would start after the response: here it is only counted (pipeline-import.test.ts runs it).
  after: (work: () => unknown) => {
    scheduled.push(work);
  },
}));

type Handler = (
  request: Request,
  context: { params?: Promise<Record<string, string | string[]>> },
) => Promise<Response>;
type Routes = { projects: { POST: Handler }; repos: { GET: Handler }; project: { GET: Handler } };

async function loadRoutes(db: Database): Promise<Routes> {
  vi.resetModules();
  (globalThis as { __kilnDb?: Promise<Database> }).__kilnDb = Promise.resolve(db);
  const projects = await import("@/app/api/v1/projects/route");
  const repos = await import("@/app/api/v1/github/repos/route");
  const project = await import("@/app/api/v1/projects/[projectId]/route");
  return { projects, repos, project };
}

const githubToken = "ghp_KilnImportSecret0123456789abcdefXYZ";
// The project's own repository stays local (the GitHub token would otherwise make GitHub its git host).
const local = { git: "local", database: "libsql", sandbox: "local", blob: "local", deploy: "local" };

describe.each(testDatabases)("importing a repository on $name", (factory) => {
  let work: string;
  let roots: string;
  let fake: FakeGitHub;
  let shopSha: string;
  let githubShop: { fullName: string; sha: string };
  let t: TestDatabase;
  let dataDir: string;
  let routes: Routes;
  let ada: { id: string };
  let adaToken: string;

  beforeAll(async () => {
    work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "kiln-import-")));
    roots = path.join(work, "roots");
    await writeShopApp(path.join(roots, "shop"));
    shopSha = commitAll(path.join(roots, "shop"));
    writeScriptsRepo(path.join(roots, "no-build"), { dev: "next dev" });
    writeScriptsRepo(path.join(roots, "nothing"), { test: "true" });
    // Outside the roots: a repository that must not be importable, and a link to it from inside.
    writeScriptsRepo(path.join(work, "secret"), { dev: "next dev", build: "next build" });
    fs.symlinkSync(path.join(work, "secret"), path.join(roots, "link-out"));

    fake = await startFakeGitHub({ token: githubToken, scopes: ["repo"] });
    const seeding = createGitHubGitHost({ token: githubToken, apiUrl: fake.url, timeoutMs: 5000 });
    const seeded = await seeding.createRepo({ name: "storefront", templateDir: path.join(roots, "shop") });
    githubShop = { fullName: seeded.repo.fullName, sha: seeded.initialSha };
    await seeding.createRepo({ name: "half-done", templateDir: path.join(roots, "no-build") });
  }, 120_000);
  afterAll(async () => {
    await fake?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  beforeEach(async () => {
    t = await factory.open();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-import-data-"));
    vi.stubEnv("KILN_DATA_DIR", dataDir);
    vi.stubEnv("KILN_SECRET_KEY", Buffer.alloc(32, 7).toString("base64"));
    vi.stubEnv("KILN_IMPORT_ROOTS", roots);
    vi.stubEnv("GITHUB_TOKEN", githubToken);
    vi.stubEnv("GITHUB_API_URL", fake.url);
    ada = await createOperator(
      t.db,
      { email: "ada@example.com", password: "correct horse battery" },
      {
        bcryptCost: 4,
      },
    );
    adaToken = (await createApiToken(t.db, ada.id, "tests")).token;
    routes = await loadRoutes(t.db);
    scheduled.length = 0;
  });
  afterEach(async () => {
    delete (globalThis as { __kilnDb?: Promise<Database> }).__kilnDb;
    vi.unstubAllEnvs();
    await t.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const bodies: string[] = [];

  async function create(
    body: unknown,
  ): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
    const response = await routes.projects.POST(
      new Request("http://kiln.test/api/v1/projects", {
        method: "POST",
        headers: { authorization: `Bearer ${adaToken}`, "content-type": "application/json" },
        body: JSON.stringify({ providers: local, ...(body as object) }),
      }),
      {},
    );
    const text = await response.text();
    bodies.push(text);
    return { status: response.status, json: JSON.parse(text), text };
  }

  async function projectRows() {
    return t.db.selectFrom("project").selectAll().execute();
  }

  function provisionContext(): ProvisionContext {
    return {
      db: t.db,
      key: Buffer.alloc(32, 7),
      providers: localProvidersAt(
        dataDir,
        process.cwd(),
        { importRoots: [roots], githubApiUrl: fake.url },
        { github: { token: githubToken } },
      ),
      templateDir: TEMPLATE_DIR,
      templateCacheRoot: path.join(dataDir, "unused-template-cache"),
      toolchainsRoot: path.join(dataDir, "unused-toolchains"),
      sandboxTimeoutMs: 60_000,
    };
  }

  /** Provisions the project's repository as the first checkpoint would; returns its first commit's files. */
  async function provisionedFiles(projectId: string) {
    const ctx = provisionContext();
    const project = await t.db
      .selectFrom("project")
      .selectAll()
      .where("id", "=", projectId)
      .executeTakeFirstOrThrow();
    const { repo, initialSha } = await ensureRepo(ctx, project);
    // Idempotent: a retry finds the repository recorded and creates nothing.
    const again = await ensureRepo(
      ctx,
      await t.db.selectFrom("project").selectAll().where("id", "=", projectId).executeTakeFirstOrThrow(),
    );
    expect(again.repo).toEqual(repo);
    const exported = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-import-export-"));
    try {
      await ctx.providers.git.exportTree(repo, initialSha ?? "", exported);
      return {
        files: fs.readdirSync(exported),
        pkg: JSON.parse(fs.readFileSync(path.join(exported, "package.json"), "utf8")) as { name: string },
      };
    } finally {
      fs.rmSync(exported, { recursive: true, force: true });
    }
  }

  it("imports a local repository under KILN_IMPORT_ROOTS: checked, recorded, provisioned from its commit", async () => {
    const created = await create({
      prompt: "Get this app running",
      source: { kind: "git", url: path.join(roots, "shop") },
    });
    expect(created.status).toBe(202);
    const project = created.json.project as { id: string; name: string; source: unknown };
    expect(project.name).toBe("shop");
    expect(project.source).toEqual({ kind: "git", location: path.join(roots, "shop"), sha: shopSha });
    expect(scheduled).toHaveLength(1);

    const { files, pkg } = await provisionedFiles(project.id);
    expect(pkg.name).toBe("shop");
    expect(files).toContain("SHOP.md");
    expect(files).not.toContain(".git");

    const shown = await routes.project.GET(
      new Request(`http://kiln.test/api/v1/projects/${project.id}`, {
        headers: { authorization: `Bearer ${adaToken}` },
      }),
      { params: Promise.resolve({ projectId: project.id }) },
    );
    expect(((await shown.json()) as { project: { source: unknown } }).project.source).toEqual(project.source);
  });

  it("lists the operator's GitHub repositories and imports one through the GitHub API", async () => {
    const listed = await routes.repos.GET(
      new Request("http://kiln.test/api/v1/github/repos", {
        headers: { authorization: `Bearer ${adaToken}` },
      }),
      {},
    );
    const listing = (await listed.json()) as { connected: boolean; repos: Array<{ fullName: string }> };
    expect(listing.connected).toBe(true);
    expect(listing.repos.map((repo) => repo.fullName)).toEqual(
      expect.arrayContaining([githubShop.fullName, githubShop.fullName.replace("storefront", "half-done")]),
    );

    const created = await create({
      prompt: "Get this app running",
      source: { kind: "github", fullName: githubShop.fullName },
    });
    expect(created.status).toBe(202);
    const project = created.json.project as { id: string; name: string; source: unknown };
    expect(project.name).toBe("storefront");
    expect(project.source).toEqual({ kind: "github", location: githubShop.fullName, sha: githubShop.sha });
    const { files, pkg } = await provisionedFiles(project.id);
    expect(pkg.name).toBe("shop");
    expect(files).toContain("SHOP.md");

    // The token went to GitHub's API only: the archive's origin (codeload) never received it.
    expect(fake.codeloadRequests.length).toBeGreaterThan(0);
    for (const request of fake.codeloadRequests) expect(request.headers.authorization).toBeUndefined();
  });

  it("refuses a repository that does not fit, saying precisely what is missing, and creates nothing", async () => {
    const noBuild = await create({
      prompt: "Get this app running",
      source: { kind: "git", url: path.join(roots, "no-build") },
    });
    expect(noBuild.status).toBe(422);
    expect(noBuild.json.error).toMatchObject({
      code: "rejected:import",
      message:
        'This repository cannot be imported: package.json has no "build" script (Kiln checks every checkpoint with `npm run build`).',
    });
    const nothing = await create({
      prompt: "Get this app running",
      source: { kind: "git", url: path.join(roots, "nothing") },
    });
    expect(nothing.status).toBe(422);
    expect((nothing.json.error as { fields: Record<string, string[]> }).fields.source).toEqual([
      'package.json has no "dev" script (Kiln previews the app with `npm run dev`).',
      'package.json has no "build" script (Kiln checks every checkpoint with `npm run build`).',
    ]);
    const fromGitHub = await create({
      prompt: "Get this app running",
      source: { kind: "github", fullName: githubShop.fullName.replace("storefront", "half-done") },
    });
    expect(fromGitHub.status).toBe(422);
    expect((fromGitHub.json.error as { message: string }).message).toContain(
      'package.json has no "build" script',
    );
    expect(await projectRows()).toEqual([]);
    expect(scheduled).toHaveLength(0);
  });

  it("refuses URLs that are not https, private hosts and paths outside the import roots, fetching nothing", async () => {
    const refused = [
      "ssh://git@github.com/acme/shop.git",
      "git@github.com:acme/shop.git",
      "http://169.254.169.254/latest/meta-data",
      "https://169.254.169.254/latest/meta-data",
      "https://127.0.0.1/acme/shop.git",
      "https://[::1]/acme/shop.git",
      `https://x-access-token:${githubToken}@github.com/acme/shop.git`,
      "file:///etc",
      "/etc/passwd",
      path.join(work, "secret"),
      path.join(roots, "link-out"),
      `${roots}/../secret`,
      "shop",
    ];
    for (const url of refused) {
      const answer = await create({ prompt: "Get this app running", source: { kind: "git", url } });
      expect({ url, status: answer.status, code: (answer.json.error as { code: string }).code }).toEqual({
        url,
        status: 400,
        code: "bad_request:input",
      });
      expect((answer.json.error as { fields: Record<string, string[]> }).fields["source.url"]).toHaveLength(
        1,
      );
    }
    const ssh = await create({
      prompt: "x app",
      source: { kind: "git", url: "ssh://git@github.com/acme/shop.git" },
    });
    expect((ssh.json.error as { message: string }).message).toBe(
      "Only https:// repository URLs can be imported, not ssh://.",
    );
    const outside = await create({ prompt: "x app", source: { kind: "git", url: "/etc" } });
    expect((outside.json.error as { message: string }).message).toBe(
      `Local repositories can be imported only from ${roots} (KILN_IMPORT_ROOTS), and that path is not a repository there.`,
    );
    expect(await projectRows()).toEqual([]);
  });

  it("refuses local paths altogether when KILN_IMPORT_ROOTS is unset", async () => {
    vi.stubEnv("KILN_IMPORT_ROOTS", "");
    routes = await loadRoutes(t.db);
    const answer = await create({ prompt: "x app", source: { kind: "git", url: path.join(roots, "shop") } });
    expect(answer.status).toBe(400);
    expect((answer.json.error as { message: string }).message).toContain("Local paths cannot be imported");
    expect(await projectRows()).toEqual([]);
  });

  it("never sends the GitHub token back", () => {
    expect(bodies.length).toBeGreaterThan(0);
    for (const body of bodies) expect(body).not.toContain(githubToken);
  });
});
