import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putAppEnv } from "@/server/app-env/put-app-env";
import { getShareLink } from "@/server/share-links/share-link";
import { getSharedSession } from "@/server/share-links/shared-session";
import type { ScenarioInput } from "../fakes/model-server";
import { testDatabases } from "../helpers/databases";
import { type PipelineHarness, startPipelineHarness } from "../helpers/pipeline-harness";
import { testPublicSite, testPublicUrl } from "../helpers/public-site";

// A project's app environment variables on the whole pipeline for real (local adapters, the REAL Codex CLI against
// the scripted model): the app's migration, its preview and its deployment read them; the agent's own environment
// holds none of them (it only sees the names, in `.env.example`), and a secret value the app prints is redacted
// from the stored events, the public replay and the deployment log.

const SECRET = `app-secret-${randomBytes(12).toString("hex")}`;
const GREETING = "hello from the settings tab";

/** The agent looks for the variables, writes a migration and a page that read them, and is done. */
const envProbe: ScenarioInput = {
  name: "codex-app-env-probe",
  turns: [
    {
      when: { step: 0 },
      reply: {
        kind: "shell",
        command:
          "printenv APP_SIGNING_SALT || echo no-secret-in-agent-env; printenv APP_GREETING || echo no-greeting-in-agent-env; env | grep -c -e APP_SIGNING_SALT -e APP_GREETING || true; cat .env.example",
        say: "Checking which variables the app has.",
      },
    },
    {
      when: { step: 1 },
      reply: {
        kind: "write",
        path: "migrations/20260301000000_env_probe.ts",
        content: [
          'import { type Kysely, sql } from "kysely";',
          "",
          "// Records what the migration saw of the app's environment (and prints it: Kiln must redact it).",
          "",
          "export async function up(db: Kysely<unknown>): Promise<void> {",
          '  const value = process.env.APP_SIGNING_SALT ?? "missing";',
          '  console.log("migration sees " + value);',
          `  await sql\`insert into app_meta (name, value, updated_at) values ('env_probe', \${value}, '2026-03-01T00:00:00Z')\`.execute(db);`,
          "}",
          "",
          "export async function down(db: Kysely<unknown>): Promise<void> {",
          "  await sql`delete from app_meta where name = 'env_probe'`.execute(db);",
          "}",
        ],
      },
    },
    {
      when: { step: 2 },
      reply: {
        kind: "write",
        path: "src/app/page.tsx",
        content: [
          'export const dynamic = "force-dynamic";',
          "",
          "export default function HomePage() {",
          "  return (",
          "    <main>",
          "      <h1>Env probe</h1>",
          '      <p>greeting: {process.env.APP_GREETING ?? "missing"}</p>',
          '      <p>secret: {process.env.APP_SIGNING_SALT ?? "missing"}</p>',
          "    </main>",
          "  );",
          "}",
        ],
      },
    },
    { reply: { kind: "text", text: "The page shows the greeting and the token." } },
  ],
};

describe.each(testDatabases)(
  "app environment variables on the pipeline, control plane on $name",
  { timeout: 900_000 },
  (database) => {
    let h: PipelineHarness;

    beforeAll(async () => {
      h = await startPipelineHarness({ database, scenarios: ["plan-todo", envProbe], deploy: true });
    });

    afterAll(async () => {
      await h?.close();
    });

    it("reach the migration, the preview and the deployment, never the agent, the events or the replay", async () => {
      const created = await h.createProject("build an env probe");
      await putAppEnv(h.db, h.key, h.userId, created.project.id, {
        name: "APP_SIGNING_SALT",
        value: SECRET,
        secret: true,
      });
      await putAppEnv(h.db, h.key, h.userId, created.project.id, { name: "APP_GREETING", value: GREETING });
      await h.run(created.revision.id);
      const revision = await h.waitForEnd(created.revision.id, 600_000);
      expect(h.platform.errors).toEqual([]);
      expect({ status: revision.status, error: revision.error_message }).toEqual({
        status: "finished",
        error: null,
      });

      // The preview and the deployment render both values.
      for (const url of [revision.preview_url, revision.deploy_url]) {
        const page = await fetch(url ?? "http://127.0.0.1:1");
        const html = await page.text();
        expect(page.status).toBe(200);
        expect(html).toContain(SECRET);
        expect(html).toContain(GREETING);
      }
      // The migration read the secret: it is in the revision's database branch.
      const probed = await h.onBranch(revision.id, async (client) =>
        (await client.execute("SELECT value FROM app_meta WHERE name = 'env_probe'")).rows.map((row) =>
          String(row.value),
        ),
      );
      expect(probed).toEqual([SECRET]);

      // The agent's environment had neither variable; it saw the names in .env.example.
      const events = await h.events(revision.id);
      // (What the commands printed, not the command lines, which name the fallbacks themselves. The secret's name has
      // no KEY, SECRET or TOKEN in it: Codex's default shell policy may drop such variables itself, hiding a leak.)
      const outputs = events.flatMap((event) =>
        event.type === "agent.command" ? [event.payload.output] : [],
      );
      const probe = outputs.join("\n");
      expect(probe).toContain("no-secret-in-agent-env");
      expect(probe).toContain("no-greeting-in-agent-env");
      expect(probe).toContain("APP_SIGNING_SALT=");
      expect(probe).toContain("APP_GREETING=");
      expect(probe).not.toContain("[redacted]");
      // …and the model (through the gateway) never got the value either.
      expect(JSON.stringify(h.models.modelRequests())).not.toContain(SECRET);

      // The migration printed the secret: stored redacted. No stored event of the project holds it.
      const rows = await h.db
        .selectFrom("event")
        .select(["type", "payload"])
        .where("project_id", "=", created.project.id)
        .execute();
      const stored = JSON.stringify(rows);
      expect(stored).toContain("migration sees [redacted]");
      expect(stored).not.toContain(SECRET);

      // The public replay neither.
      const link = await getShareLink(h.db, testPublicUrl, h.userId, created.task.id);
      const shared = await getSharedSession(h.db, testPublicSite, link.slug);
      expect(shared.events.length).toBeGreaterThan(0);
      expect(JSON.stringify(shared)).not.toContain(SECRET);

      // The deployment's log neither.
      const log = await h.providers.deployer.deploymentLog(revision.deployment_id ?? "missing");
      expect(log?.lines.length).toBeGreaterThan(0);
      expect(JSON.stringify(log)).not.toContain(SECRET);
    });
  },
);
