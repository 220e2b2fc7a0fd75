import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkImport } from "@/server/imports/check-import";
import { createGitHubGitHost } from "@/server/integrations/git-host/github";
import type { ImportSource } from "@/server/integrations/git-host/import-source";
import { createProject } from "@/server/operations/create-project";
import { importedConventions, templateConventions } from "@/server/planner/prompts";
import { type FakeGitHub, startFakeGitHub } from "../fakes/github";
import { testDatabases } from "../helpers/databases";
import { commitAll, writeShopApp } from "../helpers/importable-repos";
import { localProviderChoices } from "../helpers/local-providers";
import { type PipelineHarness, startPipelineHarness, statusesOf } from "../helpers/pipeline-harness";

// Imported repositories become projects that build (docs/import.md), through the whole pipeline on local adapters
// (the planner and the real Codex CLI on the scripted model server, a bubblewrap sandbox, the runner's migrate,
// build, commit and preview): a local git repository under KILN_IMPORT_ROOTS, and a GitHub repository on the wire
// fake, fetched through GitHub's API with the operator's token. Each app's package.json is not the template's, so its
// sandbox installs its own dependencies (npm ci through the sandbox's egress proxy); the time that takes is printed.

const githubToken = "ghp_KilnPipelineImport0123456789abcdefXYZ";

describe.each(testDatabases)(
  "imported repositories through the pipeline, control plane on $name",
  { timeout: 1_500_000 },
  (database) => {
    let h: PipelineHarness;
    let fake: FakeGitHub;
    let work: string;
    let roots: string;
    let shopSha: string;
    let github: { fullName: string; sha: string };

    beforeAll(async () => {
      work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "kiln-pipeline-import-")));
      roots = path.join(work, "roots");
      await writeShopApp(path.join(roots, "shop"));
      shopSha = commitAll(path.join(roots, "shop"));
      fake = await startFakeGitHub({ token: githubToken, scopes: ["repo"] });
      const seeded = await createGitHubGitHost({ token: githubToken, apiUrl: fake.url }).createRepo({
        name: "storefront",
        templateDir: path.join(roots, "shop"),
      });
      github = { fullName: seeded.repo.fullName, sha: seeded.initialSha };
      h = await startPipelineHarness({
        database,
        scenarios: ["plan-todo", "codex-todo-app"],
        importRoots: [roots],
        github: { token: githubToken, apiUrl: fake.url },
      });
    }, 300_000);

    afterAll(async () => {
      await h?.close();
      await fake?.close();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    async function importAndBuild(source: ImportSource, expectedSha: string) {
      const origin = await checkImport(h.providers.importer, source);
      expect(origin.sha).toBe(expectedSha);
      const created = await createProject(
        h.db,
        h.userId,
        { prompt: "Get this app running, then add a todo list", agent: "codex", source },
        localProviderChoices,
        Date.now(),
        { origin },
      );
      await h.run(created.revision.id);
      const revision = await h.waitForEnd(created.revision.id, 900_000);
      const events = await h.events(revision.id);
      expect(h.platform.errors).toEqual([]);
      expect({ status: revision.status, error: revision.error_message }).toEqual({
        status: "finished",
        error: null,
      });
      expect(statusesOf(events)).toEqual([
        "planning",
        "provisioning",
        "generating",
        "migrating",
        "previewing",
        "verifying",
        "committing",
        "finished",
      ]);

      // Planned as the repository it is: the agent is told to follow its conventions, not the template's.
      const planned = events.flatMap((event) => (event.type === "plan" ? [event.payload.prompt] : []));
      expect(planned).toHaveLength(1);
      expect(planned[0]).toContain(importedConventions);
      expect(planned[0]).not.toContain(templateConventions);

      // The repository's first commit is the imported tree; the checkpoint's commit builds on it.
      const project = await h.db
        .selectFrom("project")
        .selectAll()
        .where("id", "=", created.project.id)
        .executeTakeFirstOrThrow();
      const repo = {
        host: "local" as const,
        fullName: project.repo_full_name ?? "",
        webUrl: project.repo_url ?? "",
        defaultBranch: "main",
      };
      expect(revision.base_sha).not.toBeNull();
      const exported = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-pipeline-import-export-"));
      try {
        await h.providers.git.exportTree(repo, revision.base_sha ?? "", path.join(exported, "base"));
        expect(fs.readFileSync(path.join(exported, "base", "SHOP.md"), "utf8")).toBe(
          "The shop, before Kiln.\n",
        );
        expect(JSON.parse(fs.readFileSync(path.join(exported, "base", "package.json"), "utf8")).name).toBe(
          "shop",
        );
        expect(fs.existsSync(path.join(exported, "base", "app.json"))).toBe(true);
        await h.providers.git.exportTree(repo, revision.commit_sha ?? "", path.join(exported, "head"));
        expect(fs.existsSync(path.join(exported, "head", "SHOP.md"))).toBe(true);
        expect(
          fs
            .readdirSync(path.join(exported, "head", "migrations"))
            .some((file) => file.includes("create_todos")),
        ).toBe(true);
      } finally {
        fs.rmSync(exported, { recursive: true, force: true });
      }

      // The sandbox installed the app's own dependencies; how long that took is the cost of an import's first run.
      const progress = events.flatMap((event) => (event.type === "progress" ? [event] : []));
      const messages = progress.map((event) => event.payload.message);
      expect(messages.some((message) => message.startsWith("Importing "))).toBe(true);
      expect(messages).toContain("Installing the app's dependencies (npm ci)…");
      const rows = await h.db
        .selectFrom("event")
        .select(["id", "type", "created_at", "payload"])
        .where("revision_id", "=", revision.id)
        .orderBy("id")
        .execute();
      const installIndex = rows.findIndex((row) => String(row.payload).includes("Installing the app"));
      const installMs =
        Number(rows[installIndex + 1]?.created_at ?? 0) - Number(rows[installIndex]?.created_at ?? 0);
      console.info(
        `[pipeline-import] ${source.kind}: installing the app's dependencies took ${installMs} ms`,
      );

      // The GitHub token never reached an event.
      expect(JSON.stringify(events)).not.toContain(githubToken);
      return revision;
    }

    it("a local git repository becomes a project that builds", async () => {
      await importAndBuild({ kind: "git", url: path.join(roots, "shop") }, shopSha);
    });

    it("a GitHub repository (wire fake) becomes a project that builds", async () => {
      h.switchScenarios(["plan-todo", "codex-todo-app"]);
      await importAndBuild({ kind: "github", fullName: github.fullName }, github.sha);
    });
  },
);
