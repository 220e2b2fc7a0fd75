import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "@/server/db/connection";
import { updateProjectRow } from "@/server/db/queries/pipeline";
import { createGitCli } from "@/server/integrations/git-host/git-cli";
import type { RepoRef } from "@/server/integrations/git-host/port";
import type { Providers } from "@/server/integrations/registry";
import { type CreatedProject, createProject } from "@/server/operations/create-project";
import { revisionCodeKey } from "@/server/revisions/checkpoint-code";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { localProviderChoices, localProvidersAt } from "../helpers/local-providers";
import { closeRouteWorld, importRoutesOn, openRouteWorld, type RouteHandler } from "../helpers/route-world";

// The Code tab's routes (`/api/v1/revisions/:id/files`, `/files/content?path=`) and the coloured Changes route,
// called as Next.js calls them with real API tokens, over a real local git repository: a template commit, then a
// "sandbox" commit on top that changes a page and adds a binary, a large file, links and a node_modules folder.

const run = promisify(execFile);
const sandboxGit = createGitCli({ committer: { name: "Sandbox", email: "sandbox@example.com" } });
const page = [
  'import { db } from "@/lib/db";',
  "",
  "/** The guestbook's first page. */",
  "export default async function Page() {",
  '  const rows = await db.selectFrom("entry").selectAll().execute();',
  '  return <main className="p-4">{rows.length} entries</main>;',
  "}",
  "",
].join("\n");
const largeText = `${"a line of a large generated file\n".repeat(8000)}`;

type Routes = { files: { GET: RouteHandler }; content: { GET: RouteHandler }; diff: { GET: RouteHandler } };

async function loadRoutes(db: Database): Promise<Routes> {
  return importRoutesOn(db, async () => ({
    files: await import("@/app/api/v1/revisions/[revisionId]/files/route"),
    content: await import("@/app/api/v1/revisions/[revisionId]/files/content/route"),
    diff: await import("@/app/api/v1/revisions/[revisionId]/diff/route"),
  }));
}

async function writeFiles(dir: string, files: Record<string, string | Buffer>) {
  for (const [file, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), content);
  }
}

describe.each(testDatabases)("checkpoint files routes on $name", (factory) => {
  let t: TestDatabase;
  let dataDir: string;
  let routes: Routes;
  let adaToken: string;
  let graceToken: string;
  let providers: Providers;
  let created: CreatedProject;
  let repo: RepoRef;
  let headSha: string;

  beforeEach(async () => {
    t = await factory.open();
    const world = await openRouteWorld(t.db, "revision-files");
    dataDir = world.dataDir;
    adaToken = world.adaToken;
    graceToken = world.graceToken;
    routes = await loadRoutes(t.db);
    providers = localProvidersAt(dataDir);
    created = await createProject(t.db, world.ada.id, { prompt: "A guestbook" }, localProviderChoices);

    const templateDir = path.join(dataDir, "work-template");
    await writeFiles(templateDir, {
      "README.md": "# Guestbook\n",
      "src/app/page.tsx": "export default function Page() {\n  return null;\n}\n",
      "src/lib/db.ts": "export const db = {};\n",
    });
    const made = await providers.git.createRepo({ name: "guestbook", templateDir });
    repo = made.repo;
    await updateProjectRow(t.db, created.project.id, {
      repo_full_name: repo.fullName,
      repo_url: repo.webUrl,
      default_branch: repo.defaultBranch,
    });

    // The second commit is pushed straight into the repository, as an imported one's history arrives: bundles from
    // a sandbox may not hold a link out of the tree, but a repository from elsewhere can.
    const clone = path.join(dataDir, "work-clone");
    await sandboxGit.run(["clone", "--quiet", repo.webUrl, clone], { cwd: dataDir });
    await writeFiles(clone, {
      "src/app/page.tsx": page,
      "public/logo.png": Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 1, 2, 3]),
      "data/large.txt": largeText,
      "node_modules/left-pad/index.js": "module.exports = 1;\n",
      ".next/cache.json": "{}\n",
    });
    await fs.symlink("../../../../etc/passwd", path.join(clone, "src/passwd.ts"));
    await fs.symlink("../README.md", path.join(clone, "src/readme-link.md"));
    await sandboxGit.run(["add", "--all", "--force"], { cwd: clone });
    await sandboxGit.run(["commit", "--quiet", "-m", "Guestbook page"], { cwd: clone });
    await sandboxGit.run(["push", "--quiet", "origin", `HEAD:${repo.defaultBranch}`], { cwd: clone });
    headSha = (await run("git", ["rev-parse", "HEAD"], { cwd: clone })).stdout.trim();
    await t.db
      .updateTable("revision")
      .set({ commit_sha: headSha, base_sha: made.initialSha })
      .where("id", "=", created.revision.id)
      .execute();
  });
  afterEach(async () => {
    closeRouteWorld({ dataDir });
    await t.drop();
  });

  function get(handler: RouteHandler, what: string, token: string, revisionId = created.revision.id) {
    const headers = new Headers();
    headers.set("authorization", `Bearer ${token}`);
    return handler(new Request(`http://kiln.test/api/v1/revisions/${revisionId}/${what}`, { headers }), {
      params: Promise.resolve({ revisionId }),
    });
  }
  const content = (filePath: string, token = adaToken) =>
    get(routes.content.GET, `files/content?path=${encodeURIComponent(filePath)}`, token);

  type Listed = { path: string; size: number; kind: string; language: string | null; change: string | null };

  it("lists the commit's files with sizes, languages and what the checkpoint changed", async () => {
    const response = await get(routes.files.GET, "files", adaToken);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("private, max-age=300");
    const { files } = (await response.json()) as { files: { headSha: string; files: Listed[] } };
    expect(files.headSha).toBe(headSha);

    const { stdout } = await run("git", ["--git-dir", repo.webUrl, "ls-tree", "-r", "--name-only", headSha]);
    const committed = stdout.trim().split("\n");
    expect(committed).toContain("node_modules/left-pad/index.js");
    expect(files.files.map((file) => file.path)).toEqual(
      committed.filter((file) => !file.startsWith("node_modules/") && !file.startsWith(".next/")).sort(),
    );
    const byPath = new Map(files.files.map((file) => [file.path, file]));
    expect(byPath.get("src/app/page.tsx")).toEqual({
      path: "src/app/page.tsx",
      size: Buffer.byteLength(page),
      kind: "text",
      language: "tsx",
      change: "modified",
    });
    expect(byPath.get("src/lib/db.ts")).toMatchObject({ language: "typescript", change: null });
    expect(byPath.get("public/logo.png")).toMatchObject({ kind: "binary", language: null, change: "added" });
    expect(byPath.get("src/passwd.ts")).toMatchObject({ kind: "symlink", change: "added" });
    expect(byPath.get("src/readme-link.md")).toMatchObject({ kind: "symlink", change: "added" });
  });

  it("answers a file highlighted: its text in coloured tokens, for both themes", async () => {
    const response = await content("src/app/page.tsx");
    expect(response.status).toBe(200);
    const { file } = (await response.json()) as {
      file: {
        kind: string;
        language: string;
        code: { colors: [string, string][]; lines: [string, number][][] };
      };
    };
    expect([file.kind, file.language]).toEqual(["text", "tsx"]);
    expect(file.code.lines.map((line) => line.map(([text]) => text).join("")).join("\n")).toBe(page);
    // Coloured, not one plain run per line: the keyword and the string have colours of their own.
    const colorOf = (text: string) => {
      for (const line of file.code.lines) for (const [token, color] of line) if (token === text) return color;
      return undefined;
    };
    const keyword = colorOf("export");
    expect(keyword).toBeDefined();
    expect(file.code.colors[keyword ?? 0]).toEqual([
      expect.stringMatching(/^#/),
      expect.stringMatching(/^#/),
    ]);
    expect(new Set(file.code.colors.map(([light]) => light)).size).toBeGreaterThan(3);
    const name = colorOf("Page");
    expect(name).toBeDefined();
    expect(file.code.colors[keyword ?? 0]?.[0]).not.toBe(file.code.colors[name ?? 0]?.[0]);
  });

  it("names binary, large and linked files without their content", async () => {
    const binary = await (await content("public/logo.png")).json();
    expect(binary).toEqual({ file: { path: "public/logo.png", size: 11, kind: "binary" } });

    const large = await (await content("data/large.txt")).json();
    expect(large).toEqual({
      file: { path: "data/large.txt", size: largeText.length, kind: "too_large", limitBytes: 200 * 1024 },
    });

    // A link is shown as where it points, never followed (the target is outside the tree, or another file).
    const outside = await content("src/passwd.ts");
    expect(await outside.json()).toEqual({
      file: { path: "src/passwd.ts", size: 22, kind: "symlink", target: "../../../../etc/passwd" },
    });
    const inside = await (await content("src/readme-link.md")).json();
    expect(inside).toMatchObject({ file: { kind: "symlink", target: "../README.md" } });
    expect(JSON.stringify(inside)).not.toContain("Guestbook");
  });

  it("refuses paths outside the listing: traversal, absolute, folders, skipped folders", async () => {
    const passwd = await fs.readFile("/etc/passwd", "utf8");
    for (const bad of [
      "../README.md",
      "src/../README.md",
      "/etc/passwd",
      "./README.md",
      "src//app/page.tsx",
      "a\\b",
      "",
    ]) {
      const response = await content(bad);
      expect([bad, response.status]).toEqual([bad, 400]);
      expect(await response.text()).not.toContain(passwd.slice(0, 20));
    }
    for (const missing of [
      "src",
      "src/app",
      "node_modules/left-pad/index.js",
      ".next/cache.json",
      "etc/passwd",
    ]) {
      const response = await content(missing);
      expect([missing, response.status]).toEqual([missing, 404]);
      expect((await response.json()) as unknown).toEqual({
        error: expect.objectContaining({
          code: "not_found:file",
          message: "This checkpoint has no such file.",
        }),
      });
    }
    // Percent-encoded dots decode to "..": refused the same way.
    const encoded = await get(routes.content.GET, "files/content?path=%2e%2e%2fREADME.md", adaToken);
    expect(encoded.status).toBe(400);
  });

  it("hides the checkpoint from another operator", async () => {
    expect((await get(routes.files.GET, "files", graceToken)).status).toBe(404);
    expect((await content("src/app/page.tsx", graceToken)).status).toBe(404);
    // Grace's requests exported nothing: the cache was never filled for her.
    expect(await providers.blob.head(revisionCodeKey(created.revision.id))).toBeNull();
  });

  it("reads the files from the blob store once exported, even with the repository gone", async () => {
    expect((await get(routes.files.GET, "files", adaToken)).status).toBe(200);
    expect(await providers.blob.head(revisionCodeKey(created.revision.id))).not.toBeNull();
    await providers.git.deleteRepo(repo);
    const again = await content("src/app/page.tsx");
    expect(again.status).toBe(200);
    expect(JSON.stringify(await again.json())).toContain("selectFrom");
  });

  it("colours the Changes tab's patches by language, line for line", async () => {
    const response = await get(routes.diff.GET, "diff", adaToken);
    expect(response.status).toBe(200);
    const { diff } = (await response.json()) as {
      diff: {
        files: Array<{
          path: string;
          patch: string;
          highlight: { colors: [string, string][]; lines: Array<[string, number][] | null> } | null;
        }>;
      };
    };
    const pageDiff = diff.files.find((file) => file.path === "src/app/page.tsx");
    const lines = pageDiff?.patch.split("\n") ?? [];
    const highlight = pageDiff?.highlight;
    expect(highlight?.lines).toHaveLength(lines.length);
    lines.forEach((line, index) => {
      const tokens = highlight?.lines[index];
      if (line.startsWith("@@") || line === "") expect(tokens).toBeNull();
      else expect(tokens?.map(([text]) => text).join("")).toBe(line.slice(1));
    });
    expect(new Set(highlight?.colors.map(([light]) => light)).size).toBeGreaterThan(3);
    // Binary files and unknown languages stay plain.
    expect(diff.files.find((file) => file.path === "public/logo.png")?.highlight).toBeNull();
    expect(diff.files.find((file) => file.path === "data/large.txt")?.highlight).toBeNull();
  });
});
