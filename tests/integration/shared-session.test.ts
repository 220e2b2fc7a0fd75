import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ReplayPlayer } from "@/components/conversation/replay-player";
import type { CredentialContext } from "@/server/credentials/credential-store";
import { updateProjectRow } from "@/server/db/queries/pipeline";
import { insertRevision } from "@/server/db/queries/revisions";
import { appendPlatformEvent } from "@/server/events/append";
import { type PublicEvent, publicEventSchema } from "@/server/events/public-event";
import type { EventBody, WireEvent } from "@/server/events/schema";
import { signWebhookBody } from "@/server/events/sign";
import { handleSandboxWebhook } from "@/server/events/webhook";
import { newId } from "@/server/ids";
import { createLocalBlobStore } from "@/server/integrations/blob-store/local";
import { createGitCli } from "@/server/integrations/git-host/git-cli";
import type { Providers } from "@/server/integrations/registry";
import { queuedRevisionRow } from "@/server/revisions/queued-revision";
import { getShareLink, setShareLinkRevoked } from "@/server/share-links/share-link";
import { openSharedEventStream } from "@/server/share-links/share-stream";
import { getSharedCheckpointDiff } from "@/server/share-links/shared-diff";
import { getSharedScreenshot } from "@/server/share-links/shared-screenshot";
import { getSharedSession } from "@/server/share-links/shared-session";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf } from "../helpers/errors";
import { localProvidersAt } from "../helpers/local-providers";
import { testPublicSite, testPublicUrl } from "../helpers/public-site";
import {
  createProjectFixture,
  createSandboxFixture,
  credentialContext,
  type ProjectFixture,
  planted,
  platformSecrets,
  type SandboxFixture,
} from "./events-fixtures";

const RUN = "run_shared_session";

const realRunSchema = z.object({
  dataDir: z.string(),
  previewUrl: z.string(),
  events: z.array(
    z.object({
      source: z.enum(["runner", "platform"]),
      seq: z.number(),
      type: z.string(),
      payload: z.record(z.string(), z.unknown()),
    }),
  ),
});

/** tests/fixtures/events/codex-run.json: the events a real run stored, host details included. */
function realRunFixture() {
  return realRunSchema.parse(
    JSON.parse(fs.readFileSync(path.resolve("tests/fixtures/events/codex-run.json"), "utf8")),
  );
}

/** Reads a public SSE response until `count` events arrived; returns them and the raw text that carried them. */
async function readStream(
  response: Response,
  count: number,
): Promise<{ events: PublicEvent[]; raw: string }> {
  const body = response.body;
  if (!body) throw new Error("no body");
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let raw = "";
  const events: PublicEvent[] = [];
  while (events.length < count) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`stream ended after ${events.length} of ${count} events`);
    const text = decoder.decode(value, { stream: true });
    raw += text;
    for (const line of text.split("\n")) {
      if (line.startsWith("data: ")) events.push(publicEventSchema.parse(JSON.parse(line.slice(6))));
    }
  }
  await reader.cancel();
  return { events, raw };
}

describe.each(testDatabases)("shared session (public replay) on $name", (factory) => {
  let t: TestDatabase;
  /** A stranger's first visit: the stream from the start, no cursor. */
  const openFromStart = (slug: string, signal: AbortSignal) =>
    openSharedEventStream(t.db, testPublicSite, { slug, lastEventId: null, after: null, signal });
  let ctx: CredentialContext;
  let project: ProjectFixture;
  let sandbox: SandboxFixture;
  let email: string;

  beforeAll(async () => {
    t = await factory.open();
    ctx = credentialContext();
  });
  afterAll(async () => {
    await t.drop();
  });
  beforeEach(async () => {
    project = await createProjectFixture(t.db, ctx);
    sandbox = await createSandboxFixture(t.db, ctx.key, project);
    const user = await t.db
      .selectFrom("user")
      .select("email")
      .where("id", "=", project.userId)
      .executeTakeFirstOrThrow();
    email = user.email;
  });

  /** Everything a public viewer must never see, gathered after the fixture exists. */
  async function forbidden(): Promise<Record<string, string>> {
    const session = await t.db
      .selectFrom("session")
      .select("id")
      .where("task_id", "=", project.taskId)
      .executeTakeFirstOrThrow();
    return {
      ...planted,
      webhookSecret: sandbox.secret,
      email,
      userId: project.userId,
      projectId: project.projectId,
      taskId: project.taskId,
      revisionId: project.revisionId,
      sandboxId: sandbox.id,
      shareSessionId: session.id,
      agentSessionId: "agent-session-4f1d2c",
    };
  }

  function expectNoneOf(text: string, values: Record<string, string>) {
    for (const [name, value] of Object.entries(values)) {
      expect(text.toLowerCase().includes(value.toLowerCase()), `${name} leaked`).toBe(false);
    }
  }

  /** A run whose agent printed secrets and ids, posted through the real webhook (signature, redaction, storage). */
  async function postLeakyRun() {
    const leak = await forbidden();
    const at = 1_750_000_000_000;
    const events: WireEvent[] = [
      {
        id: `${RUN}-0`,
        seq: 0,
        at,
        type: "agent.message",
        payload: {
          itemId: "m1",
          text: `Using the key ${planted.operatorOpenai} as ${email} (user ${project.userId}).`,
        },
      },
      {
        id: `${RUN}-1`,
        seq: 1,
        at: at + 1,
        type: "agent.command",
        payload: {
          itemId: "c1",
          command: "env | sort",
          output: [
            `KILN_SANDBOX_ID=${sandbox.id}`,
            `VERCEL_TOKEN=${planted.operatorVercel}`,
            `TIDB=${planted.operatorTidbPublic}:${planted.operatorTidbPrivate}`,
            `ANTHROPIC=${planted.platformAnthropic}`,
            `ADMIN=${planted.platformAdminPassword}`,
            `BLOB=${planted.platformBlobToken}`,
            `HOOK=${sandbox.secret}`,
            `PWD=/data/projects/${project.projectId}/tasks/${project.taskId}/revisions/${project.revisionId}`,
          ].join("\n"),
          exitCode: 0,
          status: "completed",
        },
      },
      {
        id: `${RUN}-2`,
        seq: 2,
        at: at + 2,
        type: "agent.session",
        payload: { sessionId: leak.agentSessionId ?? "" },
      },
      { id: `${RUN}-3`, seq: 3, at: at + 3, type: "runner.heartbeat", payload: {} },
      {
        id: `${RUN}-4`,
        seq: 4,
        at: at + 4,
        type: "runner.failed",
        payload: { step: "verify", reason: `build failed in /work/${sandbox.id}` },
      },
    ];
    const rawBody = JSON.stringify({ runId: RUN, events });
    const result = await handleSandboxWebhook(
      {
        sandboxId: sandbox.id,
        headers: new Headers(signWebhookBody(sandbox.secret, Date.now(), rawBody)),
        rawBody,
      },
      { db: t.db, credentials: ctx, platformSecrets },
    );
    expect(result).toEqual({ accepted: 5, duplicates: 0 });
    await appendPlatformEvent(t.db, {
      projectId: project.projectId,
      taskId: project.taskId,
      revisionId: project.revisionId,
      body: { type: "progress", payload: { message: `Branching ${project.revisionId} for ${email}` } },
    });
    return leak;
  }

  it("sends the session's story with no secret, email or internal id in its JSON, page HTML or stream", async () => {
    const leak = await postLeakyRun();
    const shared = await getSharedSession(t.db, testPublicSite, project.slug);

    // What a viewer should see is there: the events in the public shape, by checkpoint ordinal.
    expect(shared.slug).toBe(project.slug);
    expect(shared.live).toBe(true);
    expect(shared.checkpoints).toEqual([
      expect.objectContaining({
        ordinal: 1,
        prompt: "A todo list with due dates",
        status: "queued",
        hasScreenshot: false,
      }),
    ]);
    expect(shared.events.map((event) => event.type)).toEqual([
      "agent.message",
      "agent.command",
      "runner.failed",
      "progress",
    ]);
    expect(shared.events.every((event) => event.checkpoint === 1)).toBe(true);
    expect(shared.events[0]).not.toHaveProperty("revisionId");
    expect(shared.events[0]).not.toHaveProperty("id");
    const json = JSON.stringify(shared);
    expect(json).toContain("[redacted]"); // the webhook's redaction
    expect(json).toContain("KILN_SANDBOX_ID=[hidden]"); // the public shape's scrubbing
    expect(json).toContain("build failed in /work/[hidden]");
    expectNoneOf(json, leak);

    const html = renderToString(createElement(ReplayPlayer, { session: shared }));
    expect(html).toContain("build failed in /work/[hidden]");
    expectNoneOf(html, leak);

    const controller = new AbortController();
    const response = await openFromStart(project.slug, controller.signal);
    const { events, raw } = await readStream(response, 4);
    controller.abort();
    expect(events.map((event) => [event.type, event.checkpoint])).toEqual([
      ["agent.message", 1],
      ["agent.command", 1],
      ["runner.failed", 1],
      ["progress", 1],
    ]);
    expect(raw).toMatch(/KILN_SANDBOX_ID=\[hidden\]/);
    expectNoneOf(raw, leak);
  });

  it("hides the host from the public replay of a real run: sandbox paths, internal addresses, the model gateway", async () => {
    // What a real run stored (see the fixture's `about`), replayed into this project: its runner's events through
    // the webhook (signature, redaction, storage), the platform's own as the pipeline appends them.
    const fixture = realRunFixture();
    const runner = fixture.events.filter((event) => event.source === "runner");
    const gatewayError: WireEvent = {
      id: `${RUN}-900`,
      seq: 900,
      at: 1_750_000_000_900,
      type: "runner.output",
      payload: {
        step: "generate",
        stream: "stderr",
        // Codex's words when the gateway is down, with the URL the runner gave it.
        text: "ERROR: stream disconnected before completion: error sending request for url (http://127.0.0.1:3000/gateway/v1/responses)\n",
      },
    };
    const closing = runner.at(-1);
    const events: WireEvent[] = [
      ...runner.slice(0, -1).map(
        (event) =>
          ({
            id: `${RUN}-${event.seq}`,
            seq: event.seq,
            at: 1_750_000_000_000 + event.seq,
            type: event.type,
            payload: event.payload,
          }) as WireEvent,
      ),
      gatewayError,
    ];
    if (closing) {
      events.push({
        id: `${RUN}-901`,
        seq: 901,
        at: 1_750_000_000_901,
        type: closing.type,
        payload: closing.payload,
      } as WireEvent);
    }
    const rawBody = JSON.stringify({ runId: RUN, events });
    await handleSandboxWebhook(
      {
        sandboxId: sandbox.id,
        headers: new Headers(signWebhookBody(sandbox.secret, Date.now(), rawBody)),
        rawBody,
      },
      { db: t.db, credentials: ctx, platformSecrets },
    );
    for (const event of fixture.events.filter((candidate) => candidate.source === "platform")) {
      await appendPlatformEvent(t.db, {
        projectId: project.projectId,
        taskId: project.taskId,
        revisionId: project.revisionId,
        body: { type: event.type, payload: event.payload } as EventBody,
      });
    }
    await t.db
      .updateTable("revision")
      .set({ status: "finished", preview_url: fixture.previewUrl, deploy_url: "http://127.0.0.1:41999" })
      .where("id", "=", project.revisionId)
      .execute();

    const hostDetails: Record<string, RegExp> = {
      "the run's data dir": new RegExp(fixture.dataDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
      "a sandbox directory": /sandboxes\/lsb_|\.kiln\/home|\/vercel\/sandbox/,
      "Kiln's checkout": new RegExp(process.cwd().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
      // Kiln's own host is loopback here; a preview's own origin (`p-….localhost`) is what the public should get.
      "a loopback address": /127\.0\.0\.1|(?<!\.)localhost:\d|\[::1\]/,
      "the model gateway": /\/gateway\b/,
    };
    const expectNoHost = (text: string) => {
      for (const [what, pattern] of Object.entries(hostDetails))
        expect(text, `${what} leaked`).not.toMatch(pattern);
    };

    // The operator's own record keeps every detail (their workspace shows it as it was).
    const stored = JSON.stringify(
      await t.db
        .selectFrom("event")
        .select("payload")
        .where("revision_id", "=", project.revisionId)
        .execute(),
    );
    expect(stored).toContain(`${fixture.dataDir}/sandboxes/lsb_`);
    expect(stored).toContain("http://127.0.0.1:3000/gateway/v1/responses");

    const shared = await getSharedSession(t.db, testPublicSite, project.slug);
    const page = JSON.stringify(shared);
    expectNoHost(page);
    // Both listen on loopback ports: the public gets their own origins (the preview proxy), never the ports.
    // Their labels are opaque: the replay hides revision ids, and so does the preview's host name.
    const checkpoint = shared.checkpoints[0];
    expect(checkpoint?.previewUrl).toMatch(/^http:\/\/p-[0-9a-f]{32}\.localhost:3000\/$/);
    expect(checkpoint?.deployUrl).toMatch(/^http:\/\/d-[0-9a-f]{32}\.localhost:3000\/$/);
    expect(`${checkpoint?.previewUrl}${checkpoint?.deployUrl}`).not.toContain(project.revisionId.slice(4));
    // What the viewer still learns: what happened, with paths relative to the app.
    expect(page).toContain('codex_home: AbsolutePathBuf(\\"~/.codex\\")');
    expect(page).toContain("- Local:         [internal address]");
    expect(page).toContain("next dev --port 64534 --hostname [internal address]");
    expect(page).toContain("error sending request for url ([model gateway])");
    expect(page).toContain("Next.js 16.4.5");
    const html = renderToString(createElement(ReplayPlayer, { session: shared }));
    expectNoHost(html);

    const controller = new AbortController();
    const response = await openFromStart(project.slug, controller.signal);
    const { raw } = await readStream(response, shared.events.length);
    controller.abort();
    expectNoHost(raw);
  });

  it("keeps a public preview link, and Kiln's own public address, as they are", async () => {
    await t.db
      .updateTable("revision")
      .set({
        status: "finished",
        preview_url: "https://c1.preview.example.com",
        deploy_url: "https://todo.example.app",
      })
      .where("id", "=", project.revisionId)
      .execute();
    const host = {
      publicUrl: "https://kiln.example.com",
      previewDomain: "preview.example.com",
      dataDir: "/srv/kiln/data",
      platformRoot: "/srv/kiln/app",
    };
    await appendPlatformEvent(t.db, {
      projectId: project.projectId,
      taskId: project.taskId,
      revisionId: project.revisionId,
      body: {
        type: "progress",
        payload: {
          message:
            "See https://kiln.example.com/s/abc and https://c1.preview.example.com; db at /srv/kiln/data/db",
        },
      },
    });
    const shared = await getSharedSession(t.db, { ...testPublicSite, publicHost: host }, project.slug);
    expect(shared.checkpoints[0]).toMatchObject({
      previewUrl: "https://c1.preview.example.com",
      deployUrl: "https://todo.example.app",
    });
    expect(JSON.stringify(shared.events)).toContain(
      "See https://kiln.example.com/s/abc and https://c1.preview.example.com; db at [data dir]/db",
    );
  });

  it("names a checkpoint created while the stream is open, and hides its id too", async () => {
    const controller = new AbortController();
    const response = await openSharedEventStream(t.db, testPublicSite, {
      slug: project.slug,
      lastEventId: null,
      after: null,
      signal: controller.signal,
      timing: { pollMs: 50 },
    });
    const received = readStream(response, 2);
    await appendPlatformEvent(t.db, {
      projectId: project.projectId,
      taskId: project.taskId,
      revisionId: project.revisionId,
      body: { type: "progress", payload: { message: "first" } },
    });
    const followUpId = newId("revision");
    await insertRevision(
      t.db,
      queuedRevisionRow(
        {
          id: followUpId,
          project_id: project.projectId,
          task_id: project.taskId,
          ordinal: 2,
          kind: "prompt",
          prompt: "Add due dates",
          agent: "codex",
          model: null,
          parent_revision_id: project.revisionId,
          restored_from_revision_id: null,
        },
        Date.now(),
      ),
    );
    await appendPlatformEvent(t.db, {
      projectId: project.projectId,
      taskId: project.taskId,
      revisionId: followUpId,
      body: { type: "progress", payload: { message: `Starting ${followUpId}` } },
    });
    const { events, raw } = await received;
    controller.abort();
    expect(events.map((event) => event.checkpoint)).toEqual([1, 2]);
    expect(events[1]?.payload).toEqual({ message: "Starting [hidden]" });
    expect(raw).not.toContain(followUpId);
  });

  it("moves the viewer's Last-Event-ID past events it never gets, without sending them", async () => {
    await appendPlatformEvent(t.db, {
      projectId: project.projectId,
      taskId: project.taskId,
      revisionId: project.revisionId,
      body: { type: "progress", payload: { message: "working" } },
    });
    const rawBody = JSON.stringify({
      runId: RUN,
      events: [{ id: `${RUN}-9`, seq: 9, at: Date.now(), type: "runner.heartbeat", payload: {} }],
    });
    await handleSandboxWebhook(
      {
        sandboxId: sandbox.id,
        headers: new Headers(signWebhookBody(sandbox.secret, Date.now(), rawBody)),
        rawBody,
      },
      { db: t.db, credentials: ctx, platformSecrets },
    );
    const newest = await t.db
      .selectFrom("event")
      .select("id")
      .where("task_id", "=", project.taskId)
      .orderBy("id", "desc")
      .executeTakeFirstOrThrow();
    const shared = await getSharedSession(t.db, testPublicSite, project.slug);
    expect(shared.events.map((event) => event.type)).toEqual(["progress"]);
    // The page resumes after the heartbeat, but a finished replay needs nothing past the progress event.
    expect(shared.lastCursor).toBe(Number(newest.id));
    expect(shared.endCursor).toBe(shared.events[0]?.cursor);

    const controller = new AbortController();
    const response = await openFromStart(project.slug, controller.signal);
    const reader = response.body?.getReader();
    let raw = "";
    while (reader && !raw.includes(`id: ${newest.id}\n\n`)) {
      const { done, value } = await reader.read();
      if (done) break;
      raw += new TextDecoder().decode(value);
    }
    controller.abort();
    await reader?.cancel();
    expect(raw).toContain("event: progress");
    expect(raw).not.toContain("runner.heartbeat");
    expect(raw.endsWith(`id: ${newest.id}\n\n`)).toBe(true);
  });

  it("cuts a long backlog at the limit and streams the rest from its cursor", async () => {
    for (let i = 0; i < 7; i++) {
      await appendPlatformEvent(t.db, {
        projectId: project.projectId,
        taskId: project.taskId,
        revisionId: project.revisionId,
        body: { type: "progress", payload: { message: `step ${i}` } },
      });
    }
    const page = await getSharedSession(t.db, testPublicSite, project.slug, { backlogLimit: 5 });
    expect(page.complete).toBe(false);
    expect(page.events.map((event) => event.payload)).toEqual(
      [0, 1, 2, 3, 4].map((i) => ({ message: `step ${i}` })),
    );
    expect(page.lastCursor).toBe(page.events.at(-1)?.cursor);
    expect(page.endCursor).toBeGreaterThan(page.lastCursor);

    const controller = new AbortController();
    const response = await openSharedEventStream(t.db, testPublicSite, {
      slug: project.slug,
      lastEventId: null,
      after: String(page.lastCursor),
      signal: controller.signal,
    });
    const { events } = await readStream(response, 2);
    controller.abort();
    expect(events.map((event) => event.payload)).toEqual([{ message: "step 5" }, { message: "step 6" }]);
    expect(events.at(-1)?.cursor).toBe(page.endCursor);
  });

  it("lets its operator revoke the link (then 404, page, stream and screenshot) and make it public again", async () => {
    const link = await getShareLink(t.db, testPublicUrl, project.userId, project.taskId);
    expect(link).toEqual({
      slug: project.slug,
      url: expect.stringMatching(new RegExp(`/s/${project.slug}$`)),
      revoked: false,
    });
    // 160 random bits of Crockford base32: 32 characters.
    expect(project.slug).toMatch(/^[0-9a-hjkmnp-tv-z]{32}$/);

    // Another operator cannot touch it, and learns nothing.
    const other = await createProjectFixture(t.db, ctx);
    const foreign = await appErrorOf(
      setShareLinkRevoked(t.db, testPublicUrl, other.userId, project.taskId, true),
    );
    expect([foreign.status, foreign.code]).toEqual([404, "not_found:task"]);
    await expect(getSharedSession(t.db, testPublicSite, project.slug)).resolves.toMatchObject({
      slug: project.slug,
    });

    expect(
      await setShareLinkRevoked(t.db, testPublicUrl, project.userId, project.taskId, true),
    ).toMatchObject({
      revoked: true,
    });
    const gone = await appErrorOf(getSharedSession(t.db, testPublicSite, project.slug));
    expect([gone.status, gone.code]).toEqual([404, "not_found:route"]);
    const stream = await appErrorOf(
      openSharedEventStream(t.db, testPublicSite, {
        slug: project.slug,
        lastEventId: null,
        after: null,
        signal: new AbortController().signal,
      }),
    );
    expect(stream.status).toBe(404);
    const blobFor = () =>
      createLocalBlobStore({ root: fs.mkdtempSync(path.join(os.tmpdir(), "kiln-share-blob-")) });
    const screenshot = await appErrorOf(getSharedScreenshot(t.db, project.slug, 1, blobFor));
    expect([screenshot.status, screenshot.code]).toEqual([404, "not_found:route"]);

    expect(
      await setShareLinkRevoked(t.db, testPublicUrl, project.userId, project.taskId, false),
    ).toMatchObject({
      slug: project.slug,
      revoked: false,
    });
    await expect(getSharedSession(t.db, testPublicSite, project.slug)).resolves.toMatchObject({
      slug: project.slug,
    });
  });

  it("serves a checkpoint's screenshot by ordinal, and reports the preview, commit and failure per checkpoint", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-share-blob-"));
    const blob = createLocalBlobStore({ root });
    const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
    await blob.put(`screenshots/${project.revisionId}.png`, png, { contentType: "image/png" });
    await t.db
      .updateTable("revision")
      .set({
        status: "failed",
        step: "deploy",
        error_message: `Deploy of ${project.revisionId} failed`,
        commit_sha: "0123456789abcdef0123456789abcdef01234567",
        preview_url: "http://127.0.0.1:41234",
        screenshot_key: `screenshots/${project.revisionId}.png`,
        finished_at: Date.now(),
      })
      .where("id", "=", project.revisionId)
      .execute();

    expect(await getSharedScreenshot(t.db, project.slug, 1, () => blob)).toEqual(png);
    const missing = await appErrorOf(getSharedScreenshot(t.db, project.slug, 2, () => blob));
    expect(missing.code).toBe("not_found:screenshot");

    const shared = await getSharedSession(t.db, testPublicSite, project.slug);
    expect(shared.live).toBe(false);
    expect(shared.checkpoints).toEqual([
      expect.objectContaining({
        ordinal: 1,
        status: "failed",
        step: "deploy",
        reason: "Deploy of [hidden] failed",
        commitShort: "0123456",
        // A loopback preview is linked on its own origin, never at the host's internal address.
        previewUrl: expect.stringMatching(/^http:\/\/p-[0-9a-f]{32}\.localhost:3000\/$/),
        hasScreenshot: true,
      }),
    ]);
    fs.rmSync(root, { recursive: true, force: true });
  });
});

describe.each(testDatabases)("shared checkpoint diff on $name", (factory) => {
  const sandboxGit = createGitCli({ committer: { name: "Sandbox", email: "sandbox@example.com" } });
  let t: TestDatabase;
  let work: string;
  let providers: Providers;
  let project: ProjectFixture;

  beforeAll(async () => {
    t = await factory.open();
  });
  afterAll(async () => {
    await t.drop();
  });
  beforeEach(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-shared-diff-test-"));
    providers = localProvidersAt(path.join(work, "data"));
    project = await createProjectFixture(t.db, credentialContext());
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** The template, then a checkpoint commit whose code holds a database URL with a password and an internal id. */
  async function commitCheckpoint() {
    const templateDir = path.join(work, "template");
    fs.mkdirSync(path.join(templateDir, "src"), { recursive: true });
    fs.writeFileSync(path.join(templateDir, "src/app.ts"), "export const greeting = 'hello';\n");
    const made = await providers.git.createRepo({ name: "shared-diff", templateDir });
    await updateProjectRow(t.db, project.projectId, {
      repo_full_name: made.repo.fullName,
      repo_url: made.repo.webUrl,
      default_branch: made.repo.defaultBranch,
    });
    const sandboxDir = path.join(work, "sandbox");
    await providers.git.exportTree(made.repo, made.initialSha, sandboxDir);
    await sandboxGit.run(["init", "--quiet", "--initial-branch=main"], { cwd: sandboxDir });
    fs.writeFileSync(
      path.join(sandboxDir, "src/db.ts"),
      `// built by ${project.revisionId}\nexport const url = "mysql://app:Pl4nted-Db-Passw0rd@db.internal:3306/app";\n`,
    );
    await sandboxGit.run(["add", "--all"], { cwd: sandboxDir });
    await sandboxGit.run(["commit", "--quiet", "-m", "work"], { cwd: sandboxDir });
    const bundlePath = path.join(work, "work.bundle");
    await sandboxGit.run(["bundle", "create", "--quiet", bundlePath, "--all"], { cwd: sandboxDir });
    const { sha } = await providers.git.commitFromBundle(made.repo, {
      branch: "main",
      parentSha: made.initialSha,
      bundlePath,
      message: "Add the database",
      author: { name: "Agent", email: "agent@example.com" },
    });
    await t.db
      .updateTable("revision")
      .set({ commit_sha: sha, base_sha: made.initialSha })
      .where("id", "=", project.revisionId)
      .execute();
  }

  it("shows what a checkpoint changed, with credentials redacted and internal ids hidden; 404 once revoked", async () => {
    const notReady = await appErrorOf(
      getSharedCheckpointDiff(t.db, testPublicSite, project.slug, 1, async () => providers),
    );
    expect(notReady.code).toBe("conflict:revision_not_ready");
    await commitCheckpoint();

    const diff = await getSharedCheckpointDiff(t.db, testPublicSite, project.slug, 1, async () => providers);
    expect(diff.files.map((file) => [file.path, file.status, file.additions])).toEqual([
      ["src/db.ts", "added", 2],
    ]);
    const json = JSON.stringify(diff);
    expect(json).toContain("// built by [hidden]");
    expect(json).toContain("[redacted]");
    expect(json).not.toContain("Pl4nted-Db-Passw0rd");
    expect(json).not.toContain(project.revisionId);
    // The patch is coloured after it was scrubbed: the tokens hold the redacted text, never the original.
    const coloured = (diff.files[0]?.highlight?.lines ?? [])
      .flatMap((line) => line ?? [])
      .map(([text]) => text);
    expect(coloured.join("")).toContain("[redacted]");
    expect(coloured.join("")).toContain("// built by [hidden]");

    const unknown = await appErrorOf(
      getSharedCheckpointDiff(t.db, testPublicSite, project.slug, 2, async () => providers),
    );
    expect([unknown.status, unknown.code]).toEqual([404, "not_found:route"]);
    await setShareLinkRevoked(t.db, testPublicUrl, project.userId, project.taskId, true);
    const revoked = await appErrorOf(
      getSharedCheckpointDiff(t.db, testPublicSite, project.slug, 1, async () => providers),
    );
    expect([revoked.status, revoked.code]).toEqual([404, "not_found:route"]);
  });
});
